"""Account changes made by ops staff in the admin are written to the ledger."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from models_app.models import AuditEvent
from tests.factories import add_member, make_user


def test_changing_an_account_is_audited_without_the_password_hash(client, superuser, team):
    client.force_login(superuser)
    user = make_user("dana", email="dana@example.com")
    group = Group.objects.create(name="Security")

    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "dana",
            "email": "dana@example.com",
            "first_name": "Dana",
            "last_name": "",
            "is_active": "on",
            "is_staff": "on",
            "groups": [group.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302
    updated = AuditEvent.objects.get(action="models_app.user.updated")
    assert updated.before["is_staff"] is False
    assert updated.after["is_staff"] is True
    assert updated.after["first_name"] == "Dana"
    groups = AuditEvent.objects.get(action="models_app.user.groups_changed")
    assert groups.after == {"groups": ["Security"]}
    assert "pbkdf2" not in updated.changes and "md5" not in updated.changes


def test_deleting_an_account_records_its_memberships(client, superuser, team):
    client.force_login(superuser)
    user = make_user("erin")
    add_member(user, team, "contributor")

    response = client.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not get_user_model().objects.filter(username="erin").exists()
    deleted = AuditEvent.objects.get(action="models_app.user.deleted")
    assert deleted.before["memberships"] == [f"{team.slug}:contributor"]


def test_setting_a_password_in_the_admin_is_audited_without_the_hash(client, superuser):
    client.force_login(superuser)
    user = make_user("fran")

    response = client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "a-long-new-passphrase-9", "password2": "a-long-new-passphrase-9"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long-new-passphrase-9")
    event = AuditEvent.objects.get(action="models_app.user.password_set")
    assert event.after == {"username": "fran", "password_set": True}
    assert user.password not in event.changes
