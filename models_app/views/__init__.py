"""Views of the catalogue, split by feature: catalogue (models), versions, audit."""
