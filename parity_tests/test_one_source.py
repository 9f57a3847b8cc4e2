"""Facts with one home per language, and tests that the homes agree."""

from __future__ import annotations

import re
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from djl_bridge.config import MODEL_DEFAULTS, MODELS
from djl_bridge.jvm.runtime import DJL_LIBTORCH_VERSION, java_dir

ROOT = Path(__file__).resolve().parents[1]


def _pom_properties() -> dict[str, str]:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    props = ET.parse(java_dir() / "pom.xml").getroot().find("m:properties", ns)
    return {el.tag.split("}")[1]: (el.text or "").strip() for el in props}


def test_the_libtorch_pins_agree_across_python_java_and_the_running_engine(jvm):
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"torch=={DJL_LIBTORCH_VERSION}" in pins
    assert _pom_properties()["pytorch.version"] == DJL_LIBTORCH_VERSION
    assert jvm.engine_version == DJL_LIBTORCH_VERSION


def test_the_djl_pin_is_the_running_djl(jvm):
    assert _pom_properties()["djl.version"] == jvm.djl_version


def test_java_and_python_know_the_same_models_in_the_same_order(jvm):
    from djl_bridge.jvm import jclass

    assert [str(k) for k in jclass("org.djlparity.d2l.Models").KINDS] == list(MODELS)
    assert set(MODEL_DEFAULTS) == set(MODELS)


def test_the_java_env_script_takes_its_settings_from_the_bridge():
    script = (ROOT / "scripts" / "djl-env.sh").read_text()
    assert "djl_bridge.jvm.runtime" in script
    assert not re.search(r"(PYTORCH_VERSION|DJL_CACHE_DIR)=\S", script), "a second copy of a bridge setting"


def test_each_engine_build_has_one_maven_profile_and_folder():
    from djl_bridge.jvm.engines import PROFILES, SPECS

    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ET.parse(java_dir() / "pom.xml").getroot()
    profiles = {p.find("m:id", ns).text: p for p in root.find("m:profiles", ns)}
    assert set(profiles) == set(PROFILES) == {s.profile for s in SPECS.values()}
    for spec in SPECS.values():
        assert PROFILES[spec.profile] == spec.target
    mxnet = {el.tag.split("}")[1]: el.text for el in profiles["mxnet"].find("m:properties", ns)}
    assert mxnet["djl.version"] == "0.23.0", "the version the published notebook loads"
    assert mxnet["engine.dir"].endswith("/" + PROFILES["mxnet"])
    assert _pom_properties()["engine.dir"].endswith("/" + PROFILES["pytorch"])
