"""The demo's mail: its children write mails to files under the data directory (so an
invitation can be opened without an SMTP server), unless the user chose a backend."""

from sensorgrid.runtime.management.commands.demo import Command


def test_the_demo_children_write_mail_to_files(settings, tmp_path, monkeypatch):
    settings.SENSORGRID_METRICS_DIR = str(tmp_path / "metrics")
    monkeypatch.delenv("SENSORGRID_EMAIL_BACKEND", raising=False)
    assert Command()._observability()["SENSORGRID_EMAIL_BACKEND"] == "file"


def test_a_backend_the_user_chose_stays(settings, tmp_path, monkeypatch):
    settings.SENSORGRID_METRICS_DIR = str(tmp_path / "metrics")
    monkeypatch.setenv("SENSORGRID_EMAIL_BACKEND", "smtp")
    assert Command()._observability()["SENSORGRID_EMAIL_BACKEND"] == "smtp"
