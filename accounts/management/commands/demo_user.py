"""Creates (or resets) the demo account that `make run` prints, so a newcomer can log in."""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand

from accounts.models import User
from billing.services import subscription_for

DEMO_EMAIL = "demo@podnex.local"
DEMO_PASSWORD = "podnex-demo-1234"


class Command(BaseCommand):
    help = "Create the demo user (demo@podnex.local) and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args, email: str, password: str, **options):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password, name="Demo User")
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        subscription_for(user=user)  # the FREE plan, as sign-up gives every user
        self.stdout.write(self.style.SUCCESS(f"Demo user: {email}  password: {password}"))
