"""Creates (or resets) the demo account that `make run` prints, so a newcomer can log in.

The demo account is staff and superuser, so /admin/ works right after `make run`. A known
password on an administrator is fine on a laptop and never acceptable on a server: the
command refuses to run in production (create staff there with `createsuperuser`)."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from billing.services import subscription_for

DEMO_EMAIL = settings.DEMO_USER_EMAIL
DEMO_PASSWORD = settings.DEMO_USER_PASSWORD


class Command(BaseCommand):
    help = "Create the demo user (demo@podnex.local) and print its credentials."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args, email: str, password: str, **options):
        if settings.IS_PRODUCTION:
            raise CommandError(
                "demo_user refuses to run in production (a staff account with a published "
                "password); create staff accounts with `python manage.py createsuperuser`"
            )
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password, name="Demo User")
        user.set_password(password)
        user.is_staff = user.is_superuser = True  # /admin/ works after `make run`
        user.save(update_fields=["password", "is_staff", "is_superuser"])
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        subscription_for(user=user)  # the FREE plan, as sign-up gives every user
        self.stdout.write(self.style.SUCCESS(f"Demo user (staff): {email}  password: {password}"))
