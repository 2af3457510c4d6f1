"""Console pages of the terminal registry."""

from django.test import Client

from onecard.terminals.models import Terminal


def login(world, user):
    client = Client()
    assert client.login(username=user.username, password=world.password)
    return client


def test_register_list_detail_and_disable(world):
    client = login(world, world.ent_admin_a)
    response = client.post("/terminals/new/", {
        "group_customer": world.customer_a.pk, "kind": "door_controller", "name": "East gate",
        "frequencies": ["2.4ghz"]})
    assert response.status_code == 200
    terminal = Terminal.objects.get(name="East gate")
    assert terminal.device_id in response.content.decode()
    assert client.get("/terminals/").status_code == 200
    assert client.get(f"/terminals/{terminal.pk}/").status_code == 200
    client.post(f"/terminals/{terminal.pk}/retire/")
    assert Terminal.objects.get(pk=terminal.pk).state == "retired"
    other = login(world, world.ent_admin_b)
    assert other.get(f"/terminals/{terminal.pk}/").status_code == 404
    assert other.post(f"/terminals/{terminal.pk}/enable/").status_code == 404


def test_refused_registration_changes_nothing(world):
    client = login(world, world.ent_admin_a)
    count = Terminal.objects.count()
    response = client.post("/terminals/new/", {
        "group_customer": world.customer_a.pk, "kind": "pos", "name": "Till"})
    assert response.status_code == 400
    assert Terminal.objects.count() == count
