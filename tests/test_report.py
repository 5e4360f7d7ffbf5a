"""The report model and its JSON document, which batch overviews read back."""

import json
import math

from bugs import buggy_text
from conftest import grade_on_cpu, small_config, write

from grader.report import report_from_dict, report_to_dict

NAN_CORR2D = """
from mxnet import np
def corr2d(X, K):
    Y = np.zeros((X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1))
    Y[0, 0] = float("nan")
    return Y
"""


def test_a_report_reads_back_from_its_json_document(tmp_path):
    report = grade_on_cpu(write(tmp_path, "flip.py", buggy_text("flipped-kernel")), small_config())
    document = json.loads(json.dumps(report_to_dict(report), allow_nan=False))
    again = report_from_dict(document)
    assert report_to_dict(again) == document
    corr2d = again.exercises[0]
    assert corr2d.example is not None and corr2d.example.diagnosis
    assert corr2d.tests[0].comparison == report.exercises[0].tests[0].comparison


def test_public_comparisons_keep_nan_and_stay_strict_json(tmp_path):
    report = grade_on_cpu(write(tmp_path, "nan.py", NAN_CORR2D), small_config())
    compared = [t.comparison for t in report.exercises[0].tests if t.comparison]
    assert compared and all(math.isnan(c.received[0][0]) for c in compared)
    assert all(t.comparison is None for t in report.exercises[0].tests if t.visibility == "hidden")
    text = json.dumps(report_to_dict(report), allow_nan=False)
    received = report_from_dict(json.loads(text)).exercises[0].tests[0].comparison.received
    assert math.isnan(received[0][0]) and received[0][1] == 0.0
