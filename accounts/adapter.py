from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Hook point for sign-up side effects (the billing issue gives each user a FREE plan)."""
