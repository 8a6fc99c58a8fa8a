"""Static files taken from installed packages rather than kept in the repository."""

from pathlib import Path

import plotly
from django.contrib.staticfiles import finders
from django.core.files.storage import FileSystemStorage

# URL prefix under STATIC_URL → (the package's folder, the one file served from it). Naming the
# file keeps collectstatic from copying the rest of the folder (plotly also ships a 5 MB
# widget bundle and sample data sets that no page uses).
PACKAGE_FILES = {
    "vendor/plotly": (Path(plotly.__file__).parent / "package_data", "plotly.min.js"),
}


class PackageFileFinder(finders.BaseFinder):
    """Finds single files inside installed packages, e.g. vendor/plotly/plotly.min.js, so
    runserver, whitenoise and collectstatic serve them like files under static/."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.storages = {}
        for prefix, (folder, _name) in PACKAGE_FILES.items():
            storage = FileSystemStorage(location=folder)
            # collectstatic and whitenoise place a storage's files under its prefix.
            storage.prefix = prefix
            self.storages[prefix] = storage

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        matches = []
        for prefix, (folder, name) in PACKAGE_FILES.items():
            if path == f"{prefix}/{name}" and (folder / name).is_file():
                found = str(folder / name)
                if not find_all:
                    return found
                matches.append(found)
        return matches

    def list(self, ignore_patterns):
        for prefix, (_folder, name) in PACKAGE_FILES.items():
            storage = self.storages[prefix]
            if storage.exists(name):
                yield name, storage
