from django.http import Http404


def queue(request):
    raise Http404


def request_detail(request, pk):
    raise Http404


def review(request, pk):
    raise Http404


def withdraw(request, pk):
    raise Http404


def resubmit(request, pk):
    raise Http404


def tick_checklist(request, pk, item_id):
    raise Http404


def request_create(request, name, number):
    raise Http404


def version_panel(request, name, number):
    raise Http404
