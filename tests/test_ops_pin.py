"""The rollback pin in a stack config file: set in place, everything else kept byte for byte."""

from __future__ import annotations

import pytest
import yaml

from paaskit.ops.errors import OpsError
from paaskit.ops.pin import pin_command, write_pin

STACK = """\
# the shop's production stack
config:
  aws:region: eu-west-1
  paaskit-app:manifest: ../../shop/paaskit.yml   # relative to the stack
  paaskit-app:environment:
    SECRET_KEY:
      secure: v1:abc123==
"""


def test_the_pin_is_added_at_the_top_of_config_and_nothing_else_changes(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(STACK)
    write_pin(path, 13)
    text = path.read_text()
    assert text == STACK.replace("config:\n", 'config:\n  paaskit-app:release: "13"\n')
    assert yaml.safe_load(text)["config"]["paaskit-app:release"] == "13"


def test_an_existing_pin_is_replaced_where_it_is(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(STACK.replace("  aws:region", '  paaskit-app:release: "9"\n  aws:region'))
    write_pin(path, 14)
    assert path.read_text() == STACK.replace(
        "  aws:region", '  paaskit-app:release: "14"\n  aws:region'
    )


def test_a_file_without_config_gets_one_and_the_indent_of_the_file_is_kept(tmp_path):
    bare = tmp_path / "Pulumi.dev.yaml"
    bare.write_text("encryptionsalt: v1:xyz")
    write_pin(bare, 2)
    assert yaml.safe_load(bare.read_text()) == {
        "encryptionsalt": "v1:xyz",
        "config": {"paaskit-app:release": "2"},
    }
    wide = tmp_path / "Pulumi.wide.yaml"
    wide.write_text("config:\n    aws:region: us-east-1\n")
    write_pin(wide, 3)
    assert wide.read_text() == 'config:\n    paaskit-app:release: "3"\n    aws:region: us-east-1\n'


def test_a_missing_file_or_a_flow_mapping_is_an_error_naming_the_file(tmp_path):
    with pytest.raises(OpsError, match=r"--stack-file .*nope.yaml: No such file"):
        write_pin(tmp_path / "nope.yaml", 1)
    flow = tmp_path / "Pulumi.flow.yaml"
    flow.write_text("config: {aws:region: us-east-1}\n")
    with pytest.raises(
        OpsError,
        match="not a block mapping; set the pin with `pulumi config set paaskit-app:release 4`",
    ):
        write_pin(flow, 4)
    assert pin_command(4) == "pulumi config set paaskit-app:release 4"
