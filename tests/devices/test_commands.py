"""monitor_register, simulate_monitor and monitor_listener's arguments."""

import pytest
from django.core.management import CommandError, call_command

from records.models import AuditEvent, Monitor

pytestmark = pytest.mark.django_db


def test_monitor_register_command_is_audited_as_a_system_actor(capsys):
    call_command("monitor_register", "0123456789ABCDEF", "--chair", "Chair 4")
    assert "Monitor 0123456789ABCDEF registered at Chair 4." in capsys.readouterr().out
    monitor = Monitor.objects.get()
    assert (monitor.registered_by, monitor.registered_by_name) == (None, "monitor_register")
    event = AuditEvent.objects.get(record_type="monitor")
    assert (event.action, event.actor_role, event.actor_username) == ("create", "system", "monitor_register")
    with pytest.raises(CommandError, match="already registered at Chair 4"):
        call_command("monitor_register", "0123456789ABCDEF", "--chair", "Chair 4")
    with pytest.raises(CommandError, match="no spaces"):
        call_command("monitor_register", "two words", "--chair", "Chair 4")


def test_simulate_monitor_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="only in demo mode"):
        call_command("simulate_monitor", "--chair", "Chair 4", "--count", "1")
    assert not Monitor.objects.exists()


def test_simulate_monitor_says_when_no_listener_answers(settings):
    settings.DEMO_MODE = True
    with pytest.raises(CommandError, match="Cannot reach the monitor listener"):
        call_command("simulate_monitor", "--chair", "Chair 4", "--count", "1", "--port", "9")
    assert Monitor.objects.get().device_id == "SIM-CHAIR-4"


def test_monitor_listener_refuses_bad_arguments():
    with pytest.raises(CommandError, match="--port"):
        call_command("monitor_listener", "--port", "70000")
    with pytest.raises(CommandError, match="--max-bytes"):
        call_command("monitor_listener", "--max-bytes", "10")
