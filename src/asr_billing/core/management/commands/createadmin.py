"""Create an operator account (a Django superuser) for the admin."""

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create an administrator who can log in to /admin/."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="default: asked on the terminal")

    def handle(self, *args, username, email, password=None, **options):
        user_model = get_user_model()
        username = (username or "").strip()
        if not username:
            raise CommandError("--username cannot be empty")
        if user_model.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists already")
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("the passwords differ")
        try:
            validate_password(password, user_model(username=username, email=email))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        user_model.objects.create_superuser(username, email, password)
        self.stdout.write(f"created administrator {username}")
