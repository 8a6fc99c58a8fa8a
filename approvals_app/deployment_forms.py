"""Forms of the deployment pages. They only clean input; promotion.py decides and writes."""

from django import forms
from django.core.exceptions import ValidationError

from models_app.models import Deployment, Environment

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class _DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


class PromoteForm(forms.Form):
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.order_by("order", "name"),
        to_field_name="name",
        empty_label=None,
    )
    target = forms.CharField(
        max_length=Deployment._meta.get_field("target").max_length,
        required=False,
        help_text="Endpoint, cluster or job that serves it, e.g. k8s://prod-eu-west-1/fraud/api.",
    )
    traffic_percent = forms.IntegerField(
        min_value=1,
        max_value=100,
        initial=100,
        label="Traffic share (%)",
        help_text="100 replaces what serves there now. Less runs as a canary beside it.",
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Change ticket, release notes, what to watch.",
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Override the promotion path",
        help_text="Administrators only: promote although the version never ran in the "
        "environment this one takes versions from. Your reason is audited.",
    )

    def __init__(self, *args, allow_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_override:
            del self.fields["override_reason"]


class RollbackForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with the rollback in the timeline and the audit ledger.",
    )
    # Set by the confirmation step, so the first POST (the timeline's button) only asks.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    # The deployment live when the confirmation was shown: a repeated or stale confirmation
    # is refused instead of rolling back a second step.
    live = forms.IntegerField(required=False, widget=forms.HiddenInput)


class TimelineForm(forms.Form):
    """/environments/<name>/?model=&at=&since=&until= — times in the site's time zone."""

    model = forms.ModelChoiceField(
        queryset=None, to_field_name="name", required=False, empty_label="All models"
    )
    at = forms.DateTimeField(
        required=False,
        label="Live at",
        widget=_DateTimeInput(),
        help_text="What served at this moment.",
    )
    since = forms.DateTimeField(required=False, label="From", widget=_DateTimeInput())
    until = forms.DateTimeField(required=False, label="To", widget=_DateTimeInput())

    def __init__(self, *args, models, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = models

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            raise ValidationError("The 'from' time is after the 'to' time.")
        return cleaned
