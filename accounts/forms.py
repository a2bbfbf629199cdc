"""The base of allauth's sign-up forms (ACCOUNT_SIGNUP_FORM_CLASS): what every sign-up
checks beyond allauth's own fields."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password


class SignupChecks(forms.Form):
    def clean(self) -> dict:
        cleaned_data = super().clean()
        self._check_password_against_the_email(cleaned_data)
        return cleaned_data

    def _check_password_against_the_email(self, cleaned_data: dict) -> None:
        # allauth's headless sign-up validates the password without a user (none exists
        # yet), so the similarity validator had nothing to compare with and a password
        # equal to the e-mail passed. Compare it with the submitted e-mail here. (The
        # classic form, with "password1", does the same itself.)
        password, email = cleaned_data.get("password"), cleaned_data.get("email")
        if "password" not in self.fields or not password or not email:
            return
        try:
            validate_password(password, user=get_user_model()(email=email))
        except forms.ValidationError as error:
            self.add_error("password", error)

    def signup(self, request, user) -> None:
        """Required by allauth of a custom sign-up form; nothing more to save."""
