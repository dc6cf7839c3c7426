"""Nova's boot checks of an image against a flavor, on image records as Glance v2 shows them."""

import pytest

from stratus.common.wsgi.errors import BadRequest
from stratus.compute_api import image_api, requested_image

GIB = 1024 ** 3
FLAVOR = {"memory_mb": 512, "root_gb": 1}


def _image(**attributes) -> dict:
    return {"id": "img", "status": "active", "size": 1024, "min_ram": 0, "min_disk": 0,
            **attributes}


def test_an_image_larger_than_the_root_disk_is_refused_with_both_sizes():
    with pytest.raises(BadRequest) as refused:
        requested_image.check_for_flavor(_image(size=GIB + 1), FLAVOR)
    assert refused.value.message == (
        f"Flavor's disk is too small for requested image. Flavor disk is {GIB} bytes, "
        f"image is {GIB + 1} bytes.")


def test_a_zero_root_disk_flavor_skips_the_disk_checks_but_not_memory():
    requested_image.check_for_flavor(_image(size=5 * GIB, min_disk=9),
                                     {"memory_mb": 512, "root_gb": 0})
    with pytest.raises(BadRequest):
        requested_image.check_for_flavor(_image(min_ram=513), {"memory_mb": 512, "root_gb": 0})


def test_an_image_that_just_fits_is_accepted():
    requested_image.check_for_flavor(_image(size=GIB, min_disk=1, min_ram=512), FLAVOR)


def test_custom_properties_are_the_keys_glance_does_not_define():
    image = _image(hw_disk_bus="virtio", tags=["a"], os_hash_algo="sha512", owner="p")
    assert image_api.properties(image) == {"hw_disk_bus": "virtio"}
