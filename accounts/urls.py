from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import path

from accounts import views
from accounts.forms import SignInForm

urlpatterns = [
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="accounts/sign_in.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    # Changing the password needs the current one, and keeps this session signed in
    # (every other session of the user is signed out).
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html"),
        name="password_change",
    ),
    path(
        "password/changed/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    # Resetting a forgotten password works signed out. The request page answers the same
    # whether or not the address belongs to someone, and mails a person at most once every
    # few minutes; the mailed link works for PASSWORD_RESET_TIMEOUT, once, does not sign
    # in, and lifts the sign-in lockouts on the username.
    path(
        "password/reset/",
        login_not_required(
            views.PasswordResetRequest.as_view(
                template_name="accounts/password_reset.html",
                email_template_name="accounts/password_reset_email.txt",
                subject_template_name="accounts/password_reset_subject.txt",
            )
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        login_not_required(
            auth_views.PasswordResetDoneView.as_view(
                template_name="accounts/password_reset_sent.html"
            )
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/done/",
        login_not_required(
            auth_views.PasswordResetCompleteView.as_view(
                template_name="accounts/password_reset_complete.html"
            )
        ),
        name="password_reset_complete",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        login_not_required(
            views.PasswordResetConfirm.as_view(
                template_name="accounts/password_reset_confirm.html",
                post_reset_login=False,
            )
        ),
        name="password_reset_confirm",
    ),
]
