from django.http import Http404


def audit_list(request):
    raise Http404
