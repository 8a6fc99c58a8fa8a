"""Extension points through which other apps add to the catalogue's pages.

models_app never imports approvals_app (approvals depends on the catalogue, not the other way
round). Where a catalogue page shows something the approvals app knows, such as a policy's
gate thresholds on a metric chart, the approvals app registers a provider here from its
AppConfig.ready().
"""

from collections.abc import Callable, Mapping, Sequence

# A provider takes a RegisteredModel and answers {metric id: [(label, threshold), …]}, where
# a metric id is its key, or "key[slice]" for one slice.
ThresholdProvider = Callable[[object], Mapping[str, Sequence[tuple[str, float]]]]

_threshold_providers: list[ThresholdProvider] = []


def register_metric_threshold_provider(provider: ThresholdProvider) -> ThresholdProvider:
    """Add a source of metric thresholds; registering the same function twice is harmless
    (ready() can run more than once in tests)."""
    if provider not in _threshold_providers:
        _threshold_providers.append(provider)
    return provider


def unregister_metric_threshold_provider(provider: ThresholdProvider) -> None:
    if provider in _threshold_providers:
        _threshold_providers.remove(provider)


def metric_thresholds(model) -> dict[str, list[tuple[str, float]]]:
    """Every registered provider's thresholds for ``model``, merged per metric id."""
    merged: dict[str, list[tuple[str, float]]] = {}
    for provider in _threshold_providers:
        for metric, lines in provider(model).items():
            merged.setdefault(metric, []).extend(
                (str(label), float(value)) for label, value in lines
            )
    return merged
