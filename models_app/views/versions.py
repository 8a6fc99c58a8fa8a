from django.http import Http404


def version_create(request, name):
    raise Http404


def version_detail(request, name, number):
    raise Http404


def version_edit(request, name, number):
    raise Http404


def metrics_log(request, name, number):
    raise Http404


def artifact_upload(request, name, number):
    raise Http404


def artifact_download(request, name, number, path):
    raise Http404
