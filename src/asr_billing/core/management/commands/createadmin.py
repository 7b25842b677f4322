"""Create an operator account (a Django superuser) for the admin."""

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _checked(option: str, check, value: str) -> None:
    try:
        check(value)
    except ValidationError as exc:
        raise CommandError(f"{option}: " + "; ".join(exc.messages)) from None


class Command(BaseCommand):
    @property
    def help(self):
        return _("Create an administrator who can log in to /admin/.")

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True, help=_("the operator's login"))
        parser.add_argument("--email", default="", help=_("e-mail (optional)"))
        parser.add_argument("--password", help=_("default: asked on the terminal"))

    def handle(self, *args, username, email, password=None, **options):
        user_model = get_user_model()
        username = (username or "").strip()
        email = (email or "").strip()
        if not username:
            raise CommandError(_("--username cannot be empty"))
        # The admin's own user form applies these rules; a name it refuses could not be
        # edited there later (and PostgreSQL refuses one past the column's length).
        max_length = user_model._meta.get_field(user_model.USERNAME_FIELD).max_length
        if max_length and len(username) > max_length:
            raise CommandError(
                ngettext("--username is longer than %(count)d character",
                         "--username is longer than %(count)d characters", max_length)
                % {"count": max_length})
        validator = getattr(user_model, "username_validator", None)
        if validator is not None:
            _checked("--username", validator, username)
        if email:
            _checked("--email", validate_email, email)
        if user_model.objects.filter(username=username).exists():
            raise CommandError(_("user %(name)s exists already") % {"name": repr(username)})
        if password is None:
            try:
                password = getpass.getpass(_("Password: "))
                again = getpass.getpass(_("Password (again): "))
            except (EOFError, KeyboardInterrupt):
                raise CommandError(
                    _("no password given (--password, or type it on a terminal)")
                ) from None
            if password != again:
                raise CommandError(_("the passwords differ"))
        try:
            validate_password(password, user_model(username=username, email=email))
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        user_model.objects.create_superuser(username, email, password)
        self.stdout.write(_("created administrator %(name)s") % {"name": username})
