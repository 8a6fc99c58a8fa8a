from django.http import Http404


def model_list(request):
    raise Http404


def model_create(request):
    raise Http404


def model_detail(request, name):
    raise Http404


def model_edit(request, name):
    raise Http404


def model_archive(request, name):
    raise Http404


def model_restore(request, name):
    raise Http404


def alias_set(request, name):
    raise Http404


def alias_delete(request, name, alias):
    raise Http404
