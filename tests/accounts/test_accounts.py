import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import SecurityEvent, User
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

NEW_PASSWORD = "a-new-Strong-passphrase-77"


def _link_in(message) -> str:
    match = re.search(r"https?://[^\s]+/accounts/[^\s]+", message.body)
    assert match, message.body
    return match.group(0).replace("http://testserver", "")


def test_signup_confirm_login_reaches_dashboard(client: Client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert not EmailAddress.objects.get(user=user).verified
    # Unconfirmed: logging in is held at the "verify your email" page, not the dashboard.
    assert client.get("/dashboard/").status_code == 302

    assert len(mail.outbox) == 1
    confirm_url = _link_in(mail.outbox[0])
    assert "/accounts/confirm-email/" in confirm_url
    page = client.get(confirm_url)
    assert page.status_code == 200
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified

    client.logout()
    response = client.post("/accounts/login/", {"login": "new@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200
    assert b"Overview" in dashboard.content
    assert SecurityEvent.objects.filter(user=user, kind="signup").exists()
    assert SecurityEvent.objects.filter(user=user, kind="login").exists()


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"email": "taken@example.com", "password1": PASSWORD, "password2": PASSWORD},
            "already registered",
        ),
        ({"email": "weak@example.com", "password1": "123", "password2": "123"}, "too short"),
        (
            {"email": "mismatch@example.com", "password1": PASSWORD, "password2": PASSWORD + "x"},
            "same password",
        ),
        ({"email": "not-an-email", "password1": PASSWORD, "password2": PASSWORD}, "valid email"),
    ],
)
def test_signup_with_bad_input_says_why_and_creates_nothing(client, data, message):
    make_user("taken@example.com")
    before = User.objects.count()
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert User.objects.count() == before
    assert mail.outbox == []


def test_wrong_password_is_refused_and_logged(client):
    user = make_user("victim@example.com")
    response = client.post(
        "/accounts/login/",
        {"login": "victim@example.com", "password": "wrong-password"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    event = SecurityEvent.objects.get(kind="login_failed")
    assert event.user == user
    assert event.ip == "203.0.113.9"
    assert "wrong-password" not in str(event.detail)


def test_password_reset_mail_link_sets_new_password(client):
    make_user("forgot@example.com")
    response = client.post("/accounts/password/reset/", {"email": "forgot@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = _link_in(mail.outbox[0])
    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(email="forgot@example.com").check_password(NEW_PASSWORD)
    assert SecurityEvent.objects.filter(kind="password_reset").exists()


def test_password_change_is_logged(client):
    user = make_user()
    client.force_login(user)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert SecurityEvent.objects.filter(user=user, kind="password_changed").exists()


def test_logout_redirects_to_landing(client):
    client.force_login(make_user())
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.parametrize("path", ["/dashboard/", "/dashboard/account/"])
def test_anonymous_is_sent_to_login_with_next(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


def test_oauth_buttons_show_only_when_configured(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {}
    page = client.get("/accounts/login/").content.decode()
    assert "/accounts/google/login/" not in page
    assert "/accounts/github/login/" not in page

    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APP": {"client_id": "gh-id", "secret": "gh-secret", "key": ""}},
    }
    page = client.get("/accounts/login/").content.decode()
    assert "/accounts/github/login/" in page
    assert "/accounts/google/login/" not in page


def test_account_deletion_needs_password_and_removes_user(client):
    user = make_user()
    client.force_login(user)
    response = client.post("/dashboard/account/", {"password": "nope", "confirm": "on"})
    assert response.status_code == 400
    assert "not your password" in response.content.decode()
    assert User.objects.filter(pk=user.pk).exists()

    response = client.post("/dashboard/account/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not User.objects.filter(pk=user.pk).exists()
    assert not EmailAddress.objects.filter(email=user.email).exists()
    assert SecurityEvent.objects.filter(kind="account_deleted").exists()
    assert client.get("/dashboard/").status_code == 302


def test_forms_without_csrf_token_are_refused(db):
    client = Client(enforce_csrf_checks=True)
    make_user("csrf@example.com")
    response = client.post("/accounts/login/", {"login": "csrf@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_unknown_url_is_a_styled_404(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "bambi.css" in response.content.decode()


def test_landing_page_offers_signup_and_login(client):
    page = client.get("/").content.decode()
    assert "/accounts/signup/" in page and "/accounts/login/" in page
    assert "your own" in page


def test_french_is_served_from_the_browser_language(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in page
    assert "Connexion" in page or "Se connecter" in page


def test_createsuperuser_works_with_email(db):
    from django.core.management import call_command

    call_command("createsuperuser", "--noinput", "--email", "admin@example.com")
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_superuser and admin.is_staff


def test_admin_lists_users_and_security_events(client):
    admin = User.objects.create_superuser("boss@example.com", PASSWORD)
    make_user("someone@example.com")
    client.post("/accounts/login/", {"login": "someone@example.com", "password": "bad"})
    client.force_login(admin)
    users = client.get("/admin/accounts/user/?q=someone").content.decode()
    assert "someone@example.com" in users and "Free" in users
    events = client.get("/admin/accounts/securityevent/").content.decode()
    assert "Failed login" in events


# --- the sign-in screens and mails (issue 13, item 7) --------------------------------------------


def test_screens_say_log_in_and_sign_up(client: Client):
    login = client.get("/accounts/login/").content.decode()
    signup = client.get("/accounts/signup/").content.decode()
    for page in (login, signup):
        assert "Sign In" not in page and "Sign Out" not in page and "Signup" not in page
    assert "<h1>Log in</h1>" in login and ">Sign up</a>" in login
    assert "<h1>Sign up</h1>" in signup and ">Log in</a>" in signup


def test_the_confirmation_link_logs_in_once_even_from_another_browser(settings):
    settings.APP_URL = "https://bambi.example.com"
    signup = Client()
    signup.post(
        "/accounts/signup/",
        {"email": "fresh@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    message = mail.outbox[0]
    # Signed with the site's name and public URL, not the host the request reached.
    assert message.subject == "[Bambi AI] Confirm your email address"
    assert "— Bambi AI\nhttps://bambi.example.com" in message.body
    assert "testserver" not in message.body.split(_link_in(message))[-1]
    link = _link_in(message)

    mail_app = Client()  # the link opened from a mail app: another browser, no session
    page = mail_app.get(link).content.decode()
    assert "Confirm and log in" in page and "fresh@example.com" in page
    response = mail_app.post(link)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert mail_app.get("/dashboard/").status_code == 200  # logged in
    user = User.objects.get(email="fresh@example.com")
    assert SecurityEvent.objects.filter(user=user, kind="login").count() == 1

    # A second use of the link logs nobody in.
    again = Client()
    again.post(link)
    assert again.get("/dashboard/").status_code == 302


def test_the_password_reset_mail_is_signed_bambi_ai(client: Client, user, settings):
    settings.APP_URL = "https://bambi.example.com"
    client.post("/accounts/password/reset/", {"email": user.email})
    message = mail.outbox[-1]
    assert message.subject == "[Bambi AI] Reset your password"
    assert message.body.rstrip().endswith("— Bambi AI\nhttps://bambi.example.com")
    assert "Hello from" not in message.body


def test_connected_accounts_exist_only_with_an_oauth_provider(client: Client, user, settings):
    client.force_login(user)
    account = client.get("/dashboard/account/").content.decode()
    assert "Connected accounts" not in account
    assert client.get("/accounts/3rdparty/").status_code == 404
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {"APP": {"client_id": "id", "secret": "s", "key": ""}, "SCOPE": ["user:email"]}
    }
    assert "Connected accounts" in client.get("/dashboard/account/").content.decode()
    assert client.get("/accounts/3rdparty/").status_code == 200


def test_destructive_buttons_look_destructive(client: Client, user):
    client.force_login(user)
    account = client.get("/dashboard/account/").content.decode()
    assert '<button type="submit" class="danger">Delete my account</button>' in account
    emails = client.get("/accounts/email/").content.decode()
    assert '<button class="danger" name="action_remove" type="submit">' in emails
