"""What ``attune serve`` says about where phones join (pure; the LAN lookup is injected)."""

from __future__ import annotations

from attune.lan import is_loopback, lan_address, startup_lines


def test_loopback_says_how_to_let_phones_in() -> None:
    lines = startup_lines("127.0.0.1", 8000, lambda: "192.168.1.20")
    assert lines[0] == "Console:  http://127.0.0.1:8000/console/"
    assert "Phones cannot reach 127.0.0.1" in lines[1]
    assert "--host 0.0.0.0" in lines[1] and "http://192.168.1.20:8000/join" in lines[1]


def test_every_interface_names_the_lan_address() -> None:
    lines = startup_lines("0.0.0.0", 8000, lambda: "10.0.0.7")
    assert lines == ["Console:  http://10.0.0.7:8000/console/",
                     "Phones join at http://10.0.0.7:8000/join (open the console at this address "
                     "too, so its QR code points there)."]


def test_no_network_is_said_plainly() -> None:
    lines = startup_lines("0.0.0.0", 8000, lambda: None)
    assert "no network found" in lines[1]


def test_a_named_host_is_used_as_given() -> None:
    assert startup_lines("attune.school.example", 443, lambda: None)[1].startswith(
        "Phones join at http://attune.school.example:443/join")


def test_loopback_names() -> None:
    assert is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.1.1")
    assert not is_loopback("192.168.1.2") and not is_loopback("attune.example")


def test_lan_address_is_never_loopback() -> None:
    found = lan_address()
    assert found is None or not is_loopback(found)
