"""Forms of the approval workflow. They validate input; the services decide."""

from django import forms

from approvals_app.models import Review
from models_app.models import Environment


class RequestApprovalForm(forms.Form):
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.none(),
        to_field_name="name",
        empty_label=None,
        help_text="Only environments whose approval policy covers this model's risk tier.",
    )
    justification = forms.CharField(
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "placeholder": "Why this version should go there: what changed, how it was "
                "evaluated, what risk remains.",
            }
        ),
        max_length=5000,
        help_text="Reviewers read this first.",
    )

    def __init__(self, *args, environments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if environments is not None:
            self.fields["environment"].queryset = environments


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=Review.Decision.choices)
    comment = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Optional when approving; required otherwise."}
        ),
    )
    # Set by the confirmation step that protects approvals of high-risk models.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)
    override_reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Override reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Approving past a failing gate is recorded as an override with this reason.",
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "Optional: why it is withdrawn"}),
    )


class ResubmitForm(forms.Form):
    justification = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Say what changed since the reviewers asked for changes.",
    )


class ChecklistTickForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "Note"}),
    )
    evidence_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://… link to evidence"}),
    )
