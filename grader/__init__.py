"""An autograder for the convolution chapter of Dive into Deep Learning (MXNet edition)."""


def check(*names: str, **options):
    """Check this notebook's exercises against the public cases: `check("corr2d")`."""
    from grader.notebook import check as check_notebook

    return check_notebook(*names, **options)
