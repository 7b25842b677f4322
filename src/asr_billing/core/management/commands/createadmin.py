"""Create an operator account (a Django superuser) for the admin."""

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email


def _checked(option: str, check, value: str) -> None:
    try:
        check(value)
    except ValidationError as exc:
        raise CommandError(f"{option}: " + "; ".join(exc.messages)) from None


class Command(BaseCommand):
    help = "Create an administrator who can log in to /admin/."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="default: asked on the terminal")

    def handle(self, *args, username, email, password=None, **options):
        user_model = get_user_model()
        username = (username or "").strip()
        email = (email or "").strip()
        if not username:
            raise CommandError("--username cannot be empty")
        # The admin's own user form applies these rules; a name it refuses could not be
        # edited there later (and PostgreSQL refuses one past the column's length).
        max_length = user_model._meta.get_field(user_model.USERNAME_FIELD).max_length
        if max_length and len(username) > max_length:
            raise CommandError(f"--username is longer than {max_length} characters")
        validator = getattr(user_model, "username_validator", None)
        if validator is not None:
            _checked("--username", validator, username)
        if email:
            _checked("--email", validate_email, email)
        if user_model.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists already")
        if password is None:
            try:
                password = getpass.getpass("Password: ")
                again = getpass.getpass("Password (again): ")
            except (EOFError, KeyboardInterrupt):
                raise CommandError(
                    "no password given (--password, or type it on a terminal)"
                ) from None
            if password != again:
                raise CommandError("the passwords differ")
        try:
            validate_password(password, user_model(username=username, email=email))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        user_model.objects.create_superuser(username, email, password)
        self.stdout.write(f"created administrator {username}")
