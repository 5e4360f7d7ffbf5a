"""An autograder for the convolution chapter of Dive into Deep Learning (MXNet and PyTorch)."""

__version__ = "0.1.0"


def check(*names: str, **options):
    """Check this notebook's exercises against the public cases: `check("corr2d")`."""
    from grader.notebook import check as check_notebook

    return check_notebook(*names, **options)


def version_text() -> str:
    """The grader's version and what it runs on, as `--version` prints it (no framework
    import)."""
    import platform
    from importlib import metadata

    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (
        f"d2l-grader {__version__} (Python {platform.python_version()}, "
        f"numpy {installed('numpy')}, mxnet {installed('mxnet')}, torch {installed('torch')})"
    )
