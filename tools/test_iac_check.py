#!/usr/bin/env python3
"""The offline IaC check must be able to fail: each test breaks a copy of infra/ the way a
real mistake would and expects iac_check to name it. Run: python3 tools/test_iac_check.py"""

import io
import re
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import iac_check  # noqa: E402

INFRA = Path(__file__).resolve().parent.parent / "infra"


class IacCheckCatchesMistakes(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.infra = Path(self.tmp.name) / "infra"
        shutil.copytree(INFRA, self.infra, ignore=shutil.ignore_patterns(".terraform"))

    def tearDown(self):
        self.tmp.cleanup()

    def run_check(self):
        out = io.StringIO()
        with redirect_stdout(out):
            status = iac_check.main(["iac_check.py", str(self.infra)])
        return status, out.getvalue()

    def edit(self, name, pattern, replacement):
        path = self.infra / name
        text = path.read_text()
        changed, n = re.subn(pattern, replacement, text, count=1, flags=re.S)
        self.assertEqual(n, 1, f"{pattern!r} not found in {name}")
        path.write_text(changed)

    def test_the_real_tree_passes(self):
        status, out = self.run_check()
        self.assertEqual(status, 0, out)
        self.assertIn("references resolved", out)

    def test_a_broken_reference_is_caught(self):
        self.edit("ecs.tf", r"module\.alb\.security_group_id", "module.alb.security_grup_id")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("has no output security_grup_id", out)

    def test_an_undeclared_variable_is_caught(self):
        self.edit("alb.tf", r"var\.domain_name", "var.domain")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("var.domain is not declared", out)

    def test_a_reference_to_a_missing_resource_is_caught(self):
        self.edit("storage.tf", r"target_bucket = aws_s3_bucket\.logs\.id", "target_bucket = aws_s3_bucket.log.id")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("aws_s3_bucket.log is not declared", out)

    def test_a_misspelled_module_input_is_caught(self):
        self.edit("ecs.tf", r"health_check_grace_period_seconds", "health_check_grace_period")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("has no input 'health_check_grace_period'", out)

    def test_a_removed_lifecycle_rule_is_caught(self):
        self.edit("storage.tf", r'  # Phase 9 O-9.7.*?\n  rule \{.*?\n  \}\n', "")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("expires backups/ after 30 days", out)

    def test_a_shorter_backup_retention_is_caught(self):
        self.edit("variables.tf", r'(variable "backup_retention_days" \{.*?default\s+=\s+)30', r"\g<1>7")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("expires backups/ after 30 days", out)

    def test_an_unvalidated_color_is_caught(self):
        self.edit("variables.tf", r'contains\(\["blue", "green"\], var\.color_active\)', "true")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("color_active", out)

    def test_an_x86_task_is_caught(self):
        self.edit("ecs.tf", r'cpu_architecture\s+=\s+"ARM64"', 'cpu_architecture        = "X86_64"')
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("X86_64", out)

    def test_a_wrong_local_module_input_is_caught(self):
        self.edit("envs/prod/main.tf", r"budget_alert_emails = var", "budget_emails = var")
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("has no variable 'budget_emails'", out)

    def test_a_file_that_does_not_parse_is_caught(self):
        (self.infra / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n')
        status, out = self.run_check()
        self.assertEqual(status, 1, out)
        self.assertIn("does not parse", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
