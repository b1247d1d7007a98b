"""The "API tokens" page: a user lists, creates and revokes their own tokens.

A new key is rendered in the answer to the POST that created it (never put in the
session, never shown again); the page is not cached. Another user's token is a 404.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from sensorgrid.accounts.models import ApiToken


class NewTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What the token is for, e.g. “data export script”."
    )


@never_cache
@login_required
def tokens_page(request):
    form = NewTokenForm()
    issued = None
    if request.method == "POST":
        if "revoke" in request.POST:
            try:
                pk = int(request.POST["revoke"])
            except ValueError:
                raise Http404 from None
            deleted, _ = ApiToken.objects.filter(user=request.user, pk=pk).delete()
            if not deleted:
                raise Http404("No such token of yours.")
            return redirect("dashboard:tokens")
        form = NewTokenForm(request.POST)
        if form.is_valid():
            token, key = ApiToken.objects.issue(request.user, form.cleaned_data["name"])
            issued = {"token": token, "key": key}
            form = NewTokenForm()
    context = {
        "tokens": ApiToken.objects.filter(user=request.user),
        "form": form,
        "issued": issued,
        "ttl_days": settings.SENSORGRID_TOKEN_TTL_DAYS,
    }
    return render(request, "dashboard/tokens.html", context)
