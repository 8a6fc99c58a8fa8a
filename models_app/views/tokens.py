"""The account page where people make and revoke their personal access tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from models_app import services
from models_app.forms import AccessTokenForm
from models_app.models import AccessToken

TOKENS_SHOWN = 100


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def token_list(request):
    form = AccessTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = services.create_access_token(actor=request.user, **form.cleaned_data)
        except services.RegistryError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            # Shown in this response and never again: only its hash is kept, so it is not put
            # in the session or a redirect, and never_cache keeps it out of the browser cache.
            new_token = {"row": token, "raw": raw}
            form = AccessTokenForm()
    tokens = list(AccessToken.objects.filter(user=request.user)[:TOKENS_SHOWN])
    now = timezone.now()
    for token in tokens:
        token.is_expired = token.expires_at <= now
        token.is_live = not token.is_revoked and not token.is_expired
    context = {"form": form, "tokens": tokens, "new_token": new_token}
    return render(request, "models_app/tokens.html", context)


@require_POST
@login_required
def token_revoke(request, pk: int):
    # Only one's own tokens are on the page; anyone else's is "not found", not "forbidden".
    token = get_object_or_404(AccessToken, pk=pk, user=request.user)
    try:
        services.revoke_access_token(actor=request.user, token=token)
    except services.RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Revoked the token “{token.name}”. It no longer signs in.")
    return redirect("models_app:token_list")
