from allauth.account.adapter import DefaultAccountAdapter

from billing.services import subscription_for


class AccountAdapter(DefaultAccountAdapter):
    """Sign-up side effects: every new user starts on the FREE plan."""

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            subscription_for(user=user)
        return user
