"""The demo organisation as plain data; ``seed_demo`` turns it into rows through the services.

Northwind is a made-up payments and marketplace company. Everything here is fictional: the
people, the buckets (``s3://northwind-ml-…``) and the hosts (``*.northwind.example``).
"""

from dataclasses import dataclass, field
from typing import Any

PASSWORD = "demo"  # noqa: S105 - published on purpose: it is the demo login

# --- people and teams ----------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    title: str
    is_superuser: bool = False


# The five logins the README lists come first; the others make authorship look real.
PEOPLE = [
    Person("admin", "Alex", "Morgan", "Platform operations (superuser)", is_superuser=True),
    Person("engineer", "Sam", "Patel", "ML engineer"),
    Person("lead", "Priya", "Raman", "ML lead"),
    Person("risk", "Jordan", "Lee", "Model risk & compliance"),
    Person("viewer", "Chris", "Doyle", "Product analyst (read-only)"),
    Person("mei", "Mei", "Chen", "ML engineer, support automation"),
    Person("sofia", "Sofia", "Marín", "Data scientist, customer intelligence"),
    Person("tomas", "Tomás", "Novák", "Data scientist, forecasting"),
    Person("amira", "Amira", "Haddad", "Computer-vision engineer"),
    Person("nadia", "Nadia", "Okafor", "Financial-crime analytics"),
]
DEMO_LOGINS = ["admin", "engineer", "lead", "risk", "viewer"]
EMAIL_DOMAIN = "northwind.example"

GROUPS = {
    "ML leads": ["lead"],
    "Risk & compliance": ["risk"],
    "Security": [],
}

TEAMS = [
    (
        "fraud-risk",
        "Fraud & Risk",
        "Card-fraud detection, payment anomalies and consumer credit decisions.",
    ),
    (
        "customer-intelligence",
        "Customer Intelligence",
        "Churn, recommendations and pricing for the marketplace.",
    ),
    (
        "support-automation",
        "Support Automation",
        "The support assistant, ticket routing, speech and search behind the help desk.",
    ),
    (
        "vision-trust",
        "Vision & Trust",
        "Image moderation and identity-document checks for marketplace listings.",
    ),
    ("forecasting", "Forecasting", "Demand and capacity forecasts for operations."),
    (
        "financial-crime",
        "Financial Crime",
        "Anti-money-laundering monitoring. A closed team: its models are restricted.",
    ),
]

PRODUCT_TEAMS = [slug for slug, _, _ in TEAMS if slug != "financial-crime"]

MEMBERSHIPS = [
    *[("engineer", slug, "contributor") for slug in ("fraud-risk", "customer-intelligence")],
    ("engineer", "support-automation", "contributor"),
    *[("lead", slug, "reviewer") for slug in ("fraud-risk", "customer-intelligence")],
    ("lead", "support-automation", "reviewer"),
    # Risk & compliance reviews every team's models, including the closed one.
    *[("risk", slug, "reviewer") for slug, _, _ in TEAMS],
    # The read-only persona sees the product teams, not the closed financial-crime team,
    # so the restricted model stays invisible to it.
    *[("viewer", slug, "viewer") for slug in PRODUCT_TEAMS],
    ("mei", "support-automation", "contributor"),
    ("sofia", "customer-intelligence", "contributor"),
    ("tomas", "forecasting", "contributor"),
    ("amira", "vision-trust", "admin"),
    ("nadia", "financial-crime", "admin"),
]

# --- environments and metric definitions ---------------------------------------------------

ENVIRONMENTS = [
    ("development", "Development", 10, False, "Shared sandbox cluster; anything goes."),
    ("staging", "Staging", 20, False, "Production-like traffic replay and shadow scoring."),
    ("production", "Production", 30, True, "Customer-facing. Promotion needs an approval."),
]

# key: (display name, unit, higher is better, description)
METRIC_DEFINITIONS = {
    "accuracy": ("Accuracy", "ratio", True, "Share of correct predictions."),
    "auc": ("ROC AUC", "ratio", True, "Area under the ROC curve."),
    "f1": ("F1 score", "ratio", True, "Harmonic mean of precision and recall."),
    "precision": ("Precision", "ratio", True, "Share of flagged cases that are positive."),
    "recall": ("Recall", "ratio", True, "Share of positive cases that are flagged."),
    "latency_p95_ms": ("Latency p95", "ms", False, "95th percentile of serving latency."),
    "throughput_rps": ("Throughput", "req/s", True, "Sustained requests per second per pod."),
    "rmse": ("RMSE", "units", False, "Root mean squared error of the forecast."),
    "mae": ("MAE", "", False, "Mean absolute error."),
    "mape": ("MAPE", "%", False, "Mean absolute percentage error."),
    "r2": ("R²", "", True, "Coefficient of determination."),
    "bleu": ("BLEU", "points", True, "BLEU against agent-written reference answers (0–100)."),
    "rougeL": ("ROUGE-L", "ratio", True, "Longest-common-subsequence F-measure."),
    "toxicity_rate": ("Toxicity rate", "ratio", False, "Share of answers flagged as toxic."),
    "wer": ("Word error rate", "ratio", False, "Word error rate on the held-out calls."),
    "real_time_factor": ("Real-time factor", "×", False, "Processing time / audio duration."),
    "ndcg_at_10": ("NDCG@10", "ratio", True, "Normalised discounted cumulative gain at 10."),
    "recall_at_50": ("Recall@50", "ratio", True, "Relevant items retrieved in the top 50."),
    "recall_at_10": ("Recall@10", "ratio", True, "Relevant documents retrieved in the top 10."),
    "mrr": ("MRR", "ratio", True, "Mean reciprocal rank."),
    "map_50": ("mAP@0.5", "ratio", True, "Mean average precision at IoU 0.5."),
    "train_loss": ("Training loss", "", False, "Loss on the training set, per epoch."),
    "val_loss": ("Validation loss", "", False, "Loss on the validation set, per epoch."),
}

# --- models and versions -------------------------------------------------------------------

PREVIOUS = "previous"  # a version's default parent: the version registered before it
DERIVED = "derived"  # a metric computed from others (f1 from precision and recall)


@dataclass(frozen=True)
class VersionPlan:
    note: str
    parent: Any = PREVIOUS  # PREVIOUS, None (a new root) or a version number of this model
    parent_ref: tuple[str, int] | None = None  # a version of another model
    external_base_model: str = ""
    framework: str = ""  # overrides the model's
    framework_version: str = ""
    architecture: str = ""
    hyperparameters: dict = field(default_factory=dict)  # merged into the previous ones
    card: str = "full"  # "full", "later" (filled in by update_version_card) or "none"
    quality: float = 0.0  # shifts the metric trajectory: negative is a worse experiment
    tags: tuple[str, ...] = ()
    author: str = ""


@dataclass(frozen=True)
class AliasOp:
    name: str
    version: int
    after: int = 0  # apply once this version is registered (default: the target itself)
    delete: bool = False


@dataclass(frozen=True)
class ModelUpdate:
    after: int  # applied once this version is registered
    actor: str
    changes: dict


@dataclass(frozen=True)
class ModelPlan:
    name: str
    display_name: str
    team: str
    task: str
    risk_tier: str
    responsible: str
    author: str
    description: str
    tags: tuple[str, ...]
    framework: str
    framework_version: str
    architecture: str
    hyperparameters: dict
    repo: str
    datasets: dict  # role -> (dataset name, uri prefix); training snapshots move per version
    metrics: dict  # key -> (first, last, noise) or DERIVED
    card: tuple[str, str, str]  # intended use, limitations, ethical considerations
    versions: list[VersionPlan]
    first_days_ago: int
    last_days_ago: int
    fairness: dict = field(default_factory=dict)  # metric key -> {slice: offset}
    loss: tuple[float, float] | None = None  # training curve: (initial, floor)
    aliases: list[AliasOp] = field(default_factory=list)
    updates: list[ModelUpdate] = field(default_factory=list)
    restricted: bool = False
    archive_reason: str = ""
    initial_risk_tier: str = ""  # when the tier was changed later by an update


BUCKET = "s3://northwind-ml-datasets"

AGE_SLICES = {"age=18-25": -0.045, "age=26-40": 0.01, "age=41-65": 0.012, "age=65+": -0.052}
GENDER_SLICES = {"gender=female": -0.012, "gender=male": 0.006}

MODELS = [
    ModelPlan(
        name="fraud-classifier",
        display_name="Card fraud classifier",
        team="fraud-risk",
        task="classification",
        risk_tier="high",
        responsible="lead",
        author="engineer",
        description="""\
## Card fraud classifier

Scores every card authorisation in real time and returns a fraud probability that the
checkout risk service turns into *approve*, *step-up* (3-D Secure) or *decline*.

### Inputs

- transaction amount, currency, merchant category code (MCC) and channel
- 30-day velocity features per card, device and IP address
- device fingerprint reputation from the trust platform

### Decision thresholds in production

| score | action |
| --- | --- |
| < 0.35 | approve |
| 0.35 – 0.80 | step-up authentication |
| ≥ 0.80 | decline and open a case |

Call it through the `checkout-risk-service`; never score in batch against the live
endpoint.
""",
        tags=("fraud", "payments", "realtime", "tabular"),
        framework="xgboost",
        framework_version="2.0.3",
        architecture="Gradient-boosted trees (hist)",
        hyperparameters={
            "n_estimators": 400,
            "max_depth": 6,
            "learning_rate": 0.08,
            "subsample": 0.8,
            "colsample_bytree": 0.7,
            "scale_pos_weight": 120,
            "eval_metric": "aucpr",
            "tree_method": "hist",
        },
        repo="fraud/card-fraud",
        datasets={
            "training": ("card-transactions", f"{BUCKET}/fraud/card-transactions"),
            "validation": ("card-transactions-validation", f"{BUCKET}/fraud/validation"),
            "evaluation": ("card-fraud-holdout", f"{BUCKET}/fraud/holdout"),
        },
        metrics={
            "auc": (0.931, 0.972, 0.003),
            "accuracy": (0.9912, 0.9961, 0.0004),
            "precision": (0.78, 0.87, 0.012),
            "recall": (0.71, 0.83, 0.012),
            "f1": DERIVED,
            "latency_p95_ms": (18.0, 11.0, 0.8),
            "throughput_rps": (2400.0, 3600.0, 90.0),
        },
        fairness={"recall": {**AGE_SLICES, **GENDER_SLICES}},
        loss=(0.35, 0.06),
        card=(
            "Real-time fraud scoring of card-not-present and card-present authorisations "
            "for Northwind merchants in the EU and UK.",
            "Trained on EU/UK traffic only; precision drops on new merchant categories "
            "until they have 30 days of history. Not calibrated for account-takeover fraud.",
            "False declines fall more often on customers aged 18–25 and over 65 (see the "
            "recall slices); every decline can be appealed and is reviewed within 24 hours.",
        ),
        versions=[
            VersionPlan("Baseline on six months of authorisations.", card="none"),
            VersionPlan(
                "Added 30-day velocity features per card and device.",
                hyperparameters={"n_estimators": 500},
            ),
            VersionPlan(
                "Retrained on Q3 data; tuned depth and learning rate.",
                hyperparameters={"max_depth": 7, "learning_rate": 0.05},
                framework_version="2.1.1",
            ),
            VersionPlan(
                "Device-reputation features from the trust platform.",
                hyperparameters={"n_estimators": 600},
                framework_version="2.1.1",
            ),
            VersionPlan(
                "Monotonic constraint on amount; fewer false declines on large baskets.",
                hyperparameters={"monotone_constraints": "(1,0,0,0)"},
                framework_version="2.1.1",
                card="later",
            ),
            VersionPlan(
                "Retrained on Q4 data including the holiday peak.",
                framework_version="2.1.1",
                tags=("holiday-peak",),
            ),
            VersionPlan(
                "Candidate: merchant-category embeddings; shadowing in staging.",
                framework_version="2.1.1",
                hyperparameters={"n_estimators": 800, "learning_rate": 0.04},
                tags=("candidate",),
            ),
        ],
        aliases=[
            AliasOp("champion", 4),
            # v5 never reached production (v6 was approved first), so champion skips it.
            AliasOp("champion", 6, after=7),
            AliasOp("challenger", 7),
        ],
        first_days_ago=178,
        last_days_ago=3,
    ),
    ModelPlan(
        name="credit-scoring",
        display_name="Consumer credit scoring",
        team="fraud-risk",
        task="classification",
        risk_tier="high",
        initial_risk_tier="limited",
        responsible="lead",
        author="engineer",
        description="""\
## Consumer credit scoring

Estimates the probability that an applicant for a **Northwind Pay Later** line defaults
within 12 months. The score feeds the loan-origination portal, where an underwriter makes
the final decision for every application above €2,000.

### Regulatory notes

- Creditworthiness assessment of natural persons: **high risk** under the EU AI Act
  (Annex III, 5(b)).
- Adverse-action reasons come from the top SHAP contributions; see `reason_codes.json`.
- Protected attributes are *not* features; they are used only for the fairness slices.
""",
        tags=("credit", "lending", "tabular"),
        framework="lightgbm",
        framework_version="4.3.0",
        architecture="LightGBM binary classifier",
        hyperparameters={
            "objective": "binary",
            "num_leaves": 31,
            "learning_rate": 0.05,
            "n_estimators": 800,
            "min_child_samples": 100,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
        },
        repo="risk/credit-scoring",
        datasets={
            "training": ("credit-applications", f"{BUCKET}/credit/applications"),
            "validation": ("credit-applications-oot", f"{BUCKET}/credit/out-of-time"),
            "evaluation": ("credit-bureau-benchmark", f"{BUCKET}/credit/benchmark"),
        },
        metrics={
            "auc": (0.781, 0.829, 0.004),
            "accuracy": (0.741, 0.779, 0.004),
            "precision": (0.61, 0.68, 0.01),
            "recall": (0.55, 0.63, 0.01),
            "f1": DERIVED,
            "latency_p95_ms": (9.0, 7.0, 0.4),
            "throughput_rps": (900.0, 1400.0, 40.0),
        },
        fairness={"recall": {**GENDER_SLICES, **AGE_SLICES}},
        loss=(0.62, 0.44),
        card=(
            "Default-risk estimate supporting (not replacing) an underwriter's decision on "
            "Pay Later applications from EU residents.",
            "Applicants with a thin credit file (< 6 months) get wide uncertainty; the model "
            "abstains and routes them to manual review.",
            "Approval-rate parity across gender and age bands is monitored monthly; a gap above "
            "4 points blocks promotion. Applicants receive the main reasons for a decline.",
        ),
        versions=[
            VersionPlan("Scorecard replacement; first LightGBM model.", card="none"),
            VersionPlan(
                "Out-of-time validation on the 2024 cohort.",
                hyperparameters={"num_leaves": 63},
            ),
            VersionPlan(
                "Removed postcode features after the fairness review.",
                hyperparameters={"min_child_samples": 200},
                tags=("fairness-review",),
            ),
            VersionPlan(
                "Monotonic constraints on income and utilisation.",
                framework_version="4.5.0",
            ),
            VersionPlan(
                "Recalibrated on 2025 applications.",
                framework_version="4.5.0",
                hyperparameters={"learning_rate": 0.03, "n_estimators": 1200},
                tags=("candidate",),
            ),
        ],
        aliases=[AliasOp("champion", 4), AliasOp("challenger", 5)],
        updates=[
            ModelUpdate(
                after=2,
                actor="lead",
                # Reclassified after the compliance review: creditworthiness is Annex III.
                changes={
                    "risk_tier": "high",
                    "tags": ("annex-iii", "credit", "lending", "regulated", "tabular"),
                },
            )
        ],
        first_days_ago=165,
        last_days_ago=9,
    ),
    ModelPlan(
        name="payments-anomaly-detector",
        display_name="Payments anomaly detector",
        team="fraud-risk",
        task="anomaly-detection",
        risk_tier="limited",
        responsible="engineer",
        author="engineer",
        description="""\
## Payments anomaly detector

An LSTM autoencoder over per-merchant payment streams (5-minute buckets). A high
reconstruction error raises an alert in the payments operations channel.

- catches outages, card-testing bursts and sudden refund spikes
- thresholds are set per merchant tier; see `config.json`
- alerts are *signals for a human*, never automatic actions
""",
        tags=("payments", "anomaly", "timeseries", "monitoring"),
        framework="pytorch",
        framework_version="2.3.1",
        architecture="LSTM autoencoder (2×128)",
        hyperparameters={
            "window": 288,
            "hidden_size": 128,
            "num_layers": 2,
            "learning_rate": 0.001,
            "batch_size": 256,
            "epochs": 20,
        },
        repo="fraud/payments-anomaly",
        datasets={
            "training": ("merchant-payment-streams", f"{BUCKET}/payments/streams"),
            "evaluation": ("payments-incidents-labelled", f"{BUCKET}/payments/incidents"),
        },
        metrics={
            "auc": (0.882, 0.931, 0.004),
            "precision": (0.41, 0.58, 0.015),
            "recall": (0.62, 0.74, 0.012),
            "f1": DERIVED,
            "latency_p95_ms": (24.0, 15.0, 1.0),
            "throughput_rps": (1500.0, 2600.0, 60.0),
        },
        loss=(0.9, 0.12),
        card=(
            "Operational alerting on merchant payment volumes for the payments-ops team.",
            "Needs two weeks of history per merchant; seasonal events (Black Friday) raise "
            "false alarms unless the holiday calendar is loaded.",
            "Works on aggregates only; no personal data enters the model.",
        ),
        versions=[
            VersionPlan("First autoencoder on 5-minute buckets.", card="none"),
            VersionPlan(
                "Per-tier thresholds; holiday calendar as input.",
                hyperparameters={"epochs": 30},
            ),
            VersionPlan(
                "Bigger window (two days) and dropout.",
                hyperparameters={"window": 576, "dropout": 0.2},
                framework_version="2.4.1",
            ),
            VersionPlan(
                "Trained with refund streams as a second channel.",
                framework_version="2.4.1",
                hyperparameters={"channels": 2},
                card="later",
            ),
        ],
        aliases=[AliasOp("champion", 3)],
        first_days_ago=120,
        last_days_ago=6,
    ),
    ModelPlan(
        name="churn-predictor",
        display_name="Churn predictor",
        team="customer-intelligence",
        task="classification",
        risk_tier="limited",
        responsible="sofia",
        author="sofia",
        description="""\
## Churn predictor

Weekly batch score: the probability that an active seller stops listing within 60 days.
Retention campaigns target the top decile with an offer.

### Features

1. listing activity (counts, trends over 4/12/26 weeks)
2. support contacts and their sentiment
3. payout delays and fee changes

| segment | base churn rate |
| --- | --- |
| new sellers (< 90 days) | 18 % |
| established sellers | 6 % |

Replaces `churn-predictor-legacy` (logistic regression), archived.
""",
        tags=("churn", "marketplace", "tabular", "batch"),
        framework="lightgbm",
        framework_version="4.3.0",
        architecture="LightGBM binary classifier",
        hyperparameters={
            "objective": "binary",
            "num_leaves": 63,
            "learning_rate": 0.05,
            "n_estimators": 600,
            "min_child_samples": 50,
        },
        repo="ci/churn",
        datasets={
            "training": ("seller-activity", f"{BUCKET}/ci/seller-activity"),
            "validation": ("seller-activity-validation", f"{BUCKET}/ci/seller-activity-val"),
            "evaluation": ("seller-churn-holdout", f"{BUCKET}/ci/churn-holdout"),
        },
        metrics={
            "auc": (0.812, 0.871, 0.004),
            "accuracy": (0.842, 0.881, 0.004),
            "precision": (0.58, 0.67, 0.012),
            "recall": (0.49, 0.61, 0.012),
            "f1": DERIVED,
            "latency_p95_ms": (12.0, 8.0, 0.5),
            "throughput_rps": (400.0, 650.0, 20.0),
        },
        fairness={"recall": {"tenure=new": -0.06, "tenure=established": 0.02}},
        loss=(0.58, 0.31),
        card=(
            "Prioritising sellers for retention offers. Scores are not shown to sellers.",
            "Sellers with fewer than 4 weeks of history are scored with the new-seller prior only.",
            "An offer is a benefit, so errors mostly cost money; still, offers must not be "
            "withheld by region, which is monitored.",
        ),
        versions=[
            VersionPlan("First LightGBM model; parity with the legacy model.", card="none"),
            VersionPlan("Support-contact sentiment features.", author="engineer"),
            VersionPlan(
                "Payout-delay features.",
                hyperparameters={"n_estimators": 900, "learning_rate": 0.04},
            ),
            VersionPlan(
                "Trained on a 26-week window; rolled back in production (calibration drift).",
                quality=-0.15,
                tags=("rolled-back",),
                card="later",
            ),
            VersionPlan(
                "Back to the 12-week window with isotonic calibration.",
                parent=3,
                framework_version="4.5.0",
            ),
            VersionPlan(
                "Candidate with fee-change features.",
                framework_version="4.5.0",
                hyperparameters={"num_leaves": 95},
                tags=("candidate",),
                author="engineer",
            ),
        ],
        aliases=[
            AliasOp("champion", 3),
            AliasOp("challenger", 4),
            AliasOp("challenger", 4, after=5, delete=True),
            AliasOp("champion", 5),
            AliasOp("challenger", 6),
        ],
        first_days_ago=150,
        last_days_ago=2,
    ),
    ModelPlan(
        name="churn-predictor-legacy",
        display_name="Churn predictor (legacy)",
        team="customer-intelligence",
        task="classification",
        risk_tier="limited",
        responsible="sofia",
        author="engineer",
        description="""\
## Churn predictor (legacy)

Logistic regression over 14 hand-made features. **Archived**: replaced by
`churn-predictor`. Kept for the audit trail.
""",
        tags=("churn", "marketplace", "legacy"),
        framework="sklearn",
        framework_version="1.3.2",
        architecture="Logistic regression (L2)",
        hyperparameters={"C": 1.0, "penalty": "l2", "solver": "lbfgs", "max_iter": 500},
        repo="ci/churn-legacy",
        datasets={
            "training": ("seller-activity", f"{BUCKET}/ci/seller-activity"),
            "evaluation": ("seller-churn-holdout", f"{BUCKET}/ci/churn-holdout"),
        },
        metrics={
            "auc": (0.742, 0.768, 0.003),
            "accuracy": (0.801, 0.818, 0.003),
            "precision": (0.50, 0.53, 0.01),
            "recall": (0.38, 0.42, 0.01),
            "f1": DERIVED,
            "latency_p95_ms": (3.0, 3.0, 0.2),
            "throughput_rps": (5000.0, 5200.0, 100.0),
        },
        card=(
            "Historical reference only.",
            "Linear; misses interactions between tenure and activity.",
            "None beyond those of churn-predictor.",
        ),
        versions=[
            VersionPlan("Original model moved from the notebook server.", card="none"),
            VersionPlan("Added support-contact counts.", card="none", hyperparameters={"C": 0.5}),
            VersionPlan("Final retrain before replacement.", framework_version="1.4.2"),
        ],
        aliases=[AliasOp("champion", 3)],
        archive_reason="Replaced by churn-predictor (LightGBM); no application depends on it.",
        first_days_ago=182,
        last_days_ago=140,
    ),
    ModelPlan(
        name="recommendation-ranker",
        display_name="Listing recommendation ranker",
        team="customer-intelligence",
        task="ranking",
        risk_tier="limited",
        responsible="engineer",
        author="engineer",
        description="""\
## Listing recommendation ranker

Second stage of the storefront recommender: re-ranks ~500 candidates from the retrieval
stage into the 24 tiles a buyer sees.

- two-tower retrieval is separate; this model only ranks
- diversity re-ranking (max 3 listings per seller) happens *after* the model
- offline metric is `ndcg_at_10` on next-day clicks; online we watch click-through
""",
        tags=("recommendations", "ranking", "realtime"),
        framework="pytorch",
        framework_version="2.3.1",
        architecture="DLRM-style ranker (256-128-64 MLP)",
        hyperparameters={
            "embedding_dim": 64,
            "mlp": [256, 128, 64],
            "learning_rate": 0.002,
            "batch_size": 4096,
            "epochs": 8,
            "negatives_per_positive": 4,
        },
        repo="ci/ranker",
        datasets={
            "training": ("storefront-impressions", f"{BUCKET}/ci/impressions"),
            "validation": ("storefront-impressions-nextday", f"{BUCKET}/ci/impressions-nextday"),
        },
        metrics={
            "ndcg_at_10": (0.312, 0.368, 0.004),
            "recall_at_50": (0.41, 0.49, 0.006),
            "mrr": (0.27, 0.32, 0.004),
            "latency_p95_ms": (38.0, 26.0, 1.5),
            "throughput_rps": (850.0, 1400.0, 40.0),
        },
        loss=(0.69, 0.41),
        card=(
            "Ordering listings on the storefront home page and category pages.",
            "Cold-start listings (< 24 h) are boosted by a rule, not by the model.",
            "Popularity feedback loops can bury small sellers; a fixed share of tiles is "
            "reserved for exploration.",
        ),
        versions=[
            VersionPlan("First neural ranker, replaces the GBDT ranker.", card="none"),
            VersionPlan("Seller features and price buckets.", hyperparameters={"epochs": 10}),
            VersionPlan(
                "Sampled-softmax negatives.",
                hyperparameters={"negatives_per_positive": 8},
                framework_version="2.4.1",
            ),
            VersionPlan(
                "Wider MLP; too slow for the p95 budget.",
                hyperparameters={"mlp": [512, 256, 128]},
                framework_version="2.4.1",
                quality=-0.1,
                card="none",
            ),
            VersionPlan(
                "Back to the 256 MLP with feature crosses.",
                parent=3,
                hyperparameters={"mlp": [256, 128, 64], "feature_crosses": True},
                framework_version="2.4.1",
            ),
            VersionPlan(
                "Candidate trained with next-day purchases as a second objective.",
                framework_version="2.4.1",
                hyperparameters={"objectives": ["click", "purchase"]},
                tags=("candidate", "multi-objective"),
            ),
        ],
        aliases=[AliasOp("champion", 5), AliasOp("challenger", 6)],
        first_days_ago=140,
        last_days_ago=1,
    ),
    ModelPlan(
        name="price-elasticity",
        display_name="Price elasticity estimator",
        team="customer-intelligence",
        task="regression",
        risk_tier="limited",
        responsible="sofia",
        author="sofia",
        description="""\
## Price elasticity estimator

Predicts the own-price elasticity of demand per category and region, used by the pricing
assistant to suggest fee promotions.

| output | meaning |
| --- | --- |
| `elasticity` | % change in orders for a 1 % price change |
| `ci_low`, `ci_high` | 80 % interval from quantile models |
""",
        tags=("pricing", "tabular", "batch"),
        framework="xgboost",
        framework_version="2.0.3",
        architecture="Gradient-boosted trees with quantile heads",
        hyperparameters={
            "objective": "reg:squarederror",
            "n_estimators": 300,
            "max_depth": 5,
            "learning_rate": 0.1,
        },
        repo="ci/pricing",
        datasets={
            "training": ("price-experiments", f"{BUCKET}/ci/price-experiments"),
            "evaluation": ("price-experiments-holdout", f"{BUCKET}/ci/price-holdout"),
        },
        metrics={
            "mae": (0.142, 0.108, 0.003),
            "r2": (0.61, 0.72, 0.01),
            "latency_p95_ms": (6.0, 5.0, 0.3),
        },
        loss=(0.3, 0.12),
        card=(
            "Suggesting fee promotions to category managers, who decide.",
            "Extrapolates poorly beyond ±15 % price changes seen in experiments.",
            "Must not personalise prices to individual buyers; it works per category and "
            "region only.",
        ),
        versions=[
            VersionPlan("Trained on the 2024 price experiments.", card="none"),
            VersionPlan("Quantile heads for the interval.", hyperparameters={"n_estimators": 400}),
            VersionPlan(
                "Added region × category interactions.",
                hyperparameters={"max_depth": 6},
                framework_version="2.1.1",
            ),
            VersionPlan("Retrained with Q1 experiments.", framework_version="2.1.1"),
        ],
        aliases=[AliasOp("champion", 3)],
        first_days_ago=100,
        last_days_ago=12,
    ),
    ModelPlan(
        name="support-assistant-llm",
        display_name="Support assistant (LLM)",
        team="support-automation",
        task="text-generation",
        risk_tier="limited",
        responsible="mei",
        author="mei",
        description="""\
## Support assistant

A LoRA fine-tune of **Llama 3.1 8B Instruct** that drafts answers for support agents in
the help-desk copilot. Agents review every draft before it is sent.

### Training recipe

1. supervised fine-tuning on resolved tickets (PII scrubbed)
2. preference tuning (DPO) on agent edits of drafts
3. safety tuning on red-team prompts

### Guardrails

- retrieval over the help-centre articles (`document-embedder`)
- toxicity classifier on every draft; drafts above `0.2` are dropped
- the assistant discloses that it is an AI when it talks to customers directly
""",
        tags=("llm", "support", "generative", "lora"),
        framework="transformers",
        framework_version="4.44.2",
        architecture="Llama-3.1-8B-Instruct + LoRA (r=16)",
        hyperparameters={
            "lora_r": 16,
            "lora_alpha": 32,
            "lora_dropout": 0.05,
            "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "learning_rate": 0.0002,
            "epochs": 3,
            "max_seq_length": 4096,
            "bf16": True,
        },
        repo="support/assistant",
        datasets={
            "training": ("support-conversations", f"{BUCKET}/support/conversations"),
            "validation": ("support-conversations-validation", f"{BUCKET}/support/conv-val"),
            "evaluation": ("support-golden-answers", f"{BUCKET}/support/golden-answers"),
        },
        metrics={
            "bleu": (21.4, 29.8, 0.5),
            "rougeL": (0.381, 0.472, 0.006),
            "toxicity_rate": (0.021, 0.004, 0.0008),
            "latency_p95_ms": (2400.0, 1650.0, 60.0),
            "throughput_rps": (14.0, 22.0, 0.6),
        },
        fairness={
            "toxicity_rate": {"language=en": -0.001, "language=de": 0.002, "language=fr": 0.003}
        },
        loss=(1.9, 0.95),
        card=(
            "Drafting answers to customer support tickets for human agents (English, "
            "German, French).",
            "Can state outdated policy when the help centre is stale; cannot act on accounts. "
            "Quality drops on tickets longer than 3,000 tokens.",
            "Trained on customer conversations with PII scrubbed; drafts are always reviewed "
            "by an agent. Customers are told when a reply was drafted by AI.",
        ),
        versions=[
            VersionPlan(
                "First LoRA fine-tune on 18k resolved tickets.",
                parent=None,
                external_base_model="meta-llama/Llama-3.1-8B-Instruct",
                card="none",
            ),
            VersionPlan(
                "SFT on 42k tickets, German and French added.",
                hyperparameters={"epochs": 2},
            ),
            VersionPlan(
                "DPO on agent edits.",
                hyperparameters={"dpo_beta": 0.1, "learning_rate": 0.00005},
                tags=("dpo",),
            ),
            VersionPlan(
                "Experiment: concise-tone variant, branched from v2.",
                parent=2,
                hyperparameters={"system_prompt": "concise"},
                quality=-0.25,
                card="none",
                tags=("experiment",),
            ),
            VersionPlan(
                "Safety tuning on red-team prompts; toxicity down a lot.",
                parent=3,
                hyperparameters={"safety_examples": 6000},
                tags=("safety",),
            ),
            VersionPlan(
                "Candidate with the refreshed help-centre corpus and r=32.",
                architecture="Llama-3.1-8B-Instruct + LoRA (r=32)",
                hyperparameters={"lora_r": 32, "lora_alpha": 64},
                framework_version="4.45.1",
                tags=("candidate",),
                author="engineer",
            ),
        ],
        aliases=[
            AliasOp("champion", 3),
            AliasOp("champion", 5, after=5),
            AliasOp("challenger", 6),
        ],
        updates=[
            ModelUpdate(
                after=3,
                actor="lead",
                changes={"tags": ("llm", "support", "generative", "lora", "human-in-the-loop")},
            )
        ],
        first_days_ago=130,
        last_days_ago=1,
    ),
    ModelPlan(
        name="document-embedder",
        display_name="Help-centre document embedder",
        team="support-automation",
        task="embedding",
        risk_tier="minimal",
        responsible="mei",
        author="mei",
        description="""\
## Help-centre document embedder

Sentence embeddings (768-d) for help-centre articles and ticket text. Powers retrieval
for the support assistant and the ticket router's features.

- fine-tuned with in-batch negatives on (question, article) pairs
- re-embed the whole corpus when you change the `champion` alias
""",
        tags=("embeddings", "search", "nlp"),
        framework="transformers",
        framework_version="4.44.2",
        architecture="XLM-RoBERTa base bi-encoder (768-d)",
        hyperparameters={
            "learning_rate": 0.00002,
            "batch_size": 128,
            "epochs": 2,
            "pooling": "mean",
        },
        repo="support/embedder",
        datasets={
            "training": ("help-centre-pairs", f"{BUCKET}/support/help-centre-pairs"),
            "evaluation": ("help-centre-retrieval-bench", f"{BUCKET}/support/retrieval-bench"),
        },
        metrics={
            "recall_at_10": (0.781, 0.842, 0.005),
            "mrr": (0.612, 0.671, 0.005),
            "latency_p95_ms": (21.0, 14.0, 0.8),
            "throughput_rps": (900.0, 1300.0, 30.0),
        },
        loss=(1.4, 0.55),
        card=(
            "Semantic search over help-centre articles and support tickets.",
            "Weaker on product names coined after the training snapshot.",
            "None specific; ticket text is PII-scrubbed before embedding.",
        ),
        versions=[
            VersionPlan(
                "Fine-tuned multilingual-e5-base on question/article pairs.",
                parent=None,
                external_base_model="intfloat/multilingual-e5-base",
            ),
            VersionPlan("Hard negatives mined with v1.", hyperparameters={"hard_negatives": 4}),
            VersionPlan("Refreshed corpus; Matryoshka loss.", hyperparameters={"matryoshka": True}),
        ],
        aliases=[AliasOp("champion", 2), AliasOp("champion", 3, after=3)],
        first_days_ago=125,
        last_days_ago=20,
    ),
    ModelPlan(
        name="support-ticket-router",
        display_name="Support ticket router",
        team="support-automation",
        task="classification",
        risk_tier="minimal",
        responsible="engineer",
        author="engineer",
        description="""\
## Support ticket router

Classifies incoming tickets into 23 queues (payments, disputes, listings, account …) so
they reach the right agents first time.

A classification head fine-tuned on top of `document-embedder` v2; low-confidence tickets
(max probability `< 0.55`) go to the triage queue.
""",
        tags=("support", "nlp", "routing"),
        framework="transformers",
        framework_version="4.44.2",
        architecture="Bi-encoder + linear head (23 classes)",
        hyperparameters={"learning_rate": 0.00003, "epochs": 3, "batch_size": 64, "classes": 23},
        repo="support/router",
        datasets={
            "training": ("routed-tickets", f"{BUCKET}/support/routed-tickets"),
            "evaluation": ("routed-tickets-holdout", f"{BUCKET}/support/routed-holdout"),
        },
        metrics={
            "accuracy": (0.881, 0.921, 0.004),
            "precision": (0.86, 0.91, 0.006),
            "recall": (0.85, 0.90, 0.006),
            "f1": DERIVED,
            "latency_p95_ms": (14.0, 11.0, 0.5),
            "throughput_rps": (600.0, 800.0, 20.0),
        },
        loss=(2.6, 0.35),
        card=(
            "Routing support tickets to queues; a human can always re-route.",
            "New queues need 200 labelled tickets before the head is retrained.",
            "Misrouting delays a reply; it never closes a ticket.",
        ),
        versions=[
            VersionPlan(
                "Linear head over the document embedder.",
                parent_ref=("document-embedder", 2),
                card="none",
            ),
            VersionPlan("Two new queues (crypto payouts, VAT).", hyperparameters={"classes": 25}),
            VersionPlan(
                "Label-smoothing and class weights.", hyperparameters={"label_smoothing": 0.1}
            ),
        ],
        aliases=[AliasOp("champion", 2)],
        # Its first version is a head over document-embedder v2, so it starts after that.
        first_days_ago=68,
        last_days_ago=15,
    ),
    ModelPlan(
        name="speech-to-text",
        display_name="Call-centre speech-to-text",
        team="support-automation",
        task="speech",
        risk_tier="limited",
        responsible="mei",
        author="mei",
        description="""\
## Call-centre speech-to-text

Whisper small, fine-tuned on call-centre audio (8 kHz, telephone codecs). Transcripts feed
call summaries and quality assurance.

| language | share of calls |
| --- | --- |
| English | 61 % |
| German | 24 % |
| French | 15 % |

Audio is deleted after 30 days; only transcripts are kept.
""",
        tags=("speech", "asr", "support"),
        framework="transformers",
        framework_version="4.44.2",
        architecture="Whisper small (244M) fine-tune",
        hyperparameters={"learning_rate": 0.00001, "warmup_steps": 500, "max_steps": 4000},
        repo="support/asr",
        datasets={
            "training": ("call-audio-transcribed", f"{BUCKET}/support/call-audio"),
            "evaluation": ("call-audio-benchmark", f"{BUCKET}/support/call-audio-bench"),
        },
        metrics={
            "wer": (0.142, 0.097, 0.003),
            "real_time_factor": (0.21, 0.12, 0.006),
            "latency_p95_ms": (820.0, 540.0, 20.0),
        },
        fairness={
            "wer": {
                "accent=scottish": 0.031,
                "accent=indian-english": 0.018,
                "noise=call-centre": 0.024,
            }
        },
        loss=(1.1, 0.32),
        card=(
            "Transcribing recorded support calls for summaries and QA sampling.",
            "Accents under-represented in training (Scottish, Irish) have higher WER.",
            "Callers are told that calls are recorded and transcribed; transcripts are "
            "PII-redacted before storage.",
        ),
        versions=[
            VersionPlan(
                "Fine-tune of whisper-small on 900 h of calls.",
                parent=None,
                external_base_model="openai/whisper-small",
                card="none",
            ),
            VersionPlan("Telephone-codec augmentation.", hyperparameters={"augment": "codec"}),
            VersionPlan("1,400 h with German and French.", hyperparameters={"max_steps": 6000}),
            VersionPlan(
                "Candidate: distilled decoder for faster inference.",
                architecture="Whisper small, distilled 2-layer decoder",
                hyperparameters={"decoder_layers": 2},
                tags=("candidate", "distilled"),
                card="later",
            ),
        ],
        aliases=[AliasOp("champion", 3), AliasOp("challenger", 4)],
        first_days_ago=110,
        last_days_ago=4,
    ),
    ModelPlan(
        name="image-moderation",
        display_name="Listing image moderation",
        team="vision-trust",
        task="image-classification",
        risk_tier="limited",
        responsible="amira",
        author="amira",
        description="""\
## Listing image moderation

Flags listing photos that break the marketplace policy: nudity, weapons, counterfeit
logos, contact details in the image.

### Outcomes

- `allow` — published immediately
- `review` — published after a moderator looks at it (target: 15 minutes)
- `block` — rejected with the policy reason; the seller can appeal
""",
        tags=("vision", "moderation", "trust-safety"),
        framework="pytorch",
        framework_version="2.3.1",
        architecture="ViT-B/16 multi-label head",
        hyperparameters={
            "image_size": 224,
            "learning_rate": 0.0001,
            "batch_size": 128,
            "epochs": 12,
            "mixup": 0.2,
        },
        repo="trust/image-moderation",
        datasets={
            "training": ("listing-images-labelled", f"{BUCKET}/trust/listing-images"),
            "validation": ("listing-images-validation", f"{BUCKET}/trust/listing-images-val"),
            "evaluation": ("moderation-policy-benchmark", f"{BUCKET}/trust/policy-bench"),
        },
        metrics={
            "accuracy": (0.931, 0.957, 0.003),
            "auc": (0.965, 0.982, 0.002),
            "precision": (0.89, 0.93, 0.006),
            "recall": (0.86, 0.92, 0.006),
            "f1": DERIVED,
            "latency_p95_ms": (46.0, 31.0, 1.5),
            "throughput_rps": (220.0, 380.0, 10.0),
        },
        fairness={"recall": {"skin_tone=type-1-2": 0.008, "skin_tone=type-5-6": -0.027}},
        loss=(0.8, 0.18),
        card=(
            "Pre-screening listing photos before publication; moderators decide on `review`.",
            "Artwork and medical products cause most false positives.",
            "Nudity detection was audited for skin-tone bias; the recall gap is tracked as a "
            "fairness slice and must stay under 3 points.",
        ),
        versions=[
            VersionPlan(
                "Fine-tuned ViT-B/16 on 1.2M moderated photos.",
                parent=None,
                external_base_model="google/vit-base-patch16-224",
                card="none",
            ),
            VersionPlan("Counterfeit-logo class.", hyperparameters={"epochs": 15}),
            VersionPlan("Rebalanced skin tones in training.", tags=("fairness-review",)),
            VersionPlan(
                "Contact-details-in-image class (OCR features).",
                framework_version="2.4.1",
                hyperparameters={"ocr_features": True},
            ),
            VersionPlan(
                "Candidate at 384 px.",
                framework_version="2.4.1",
                hyperparameters={"image_size": 384, "batch_size": 64},
                tags=("candidate",),
                card="later",
            ),
        ],
        aliases=[AliasOp("champion", 4), AliasOp("challenger", 5)],
        first_days_ago=160,
        last_days_ago=5,
    ),
    ModelPlan(
        name="id-document-detector",
        display_name="ID document detector",
        team="vision-trust",
        task="object-detection",
        risk_tier="limited",
        responsible="amira",
        author="amira",
        description="""\
## ID document detector

Finds and crops identity documents (passport, ID card, driving licence) in seller
verification uploads, before OCR and the human check.

- does *not* verify identity or compare faces
- rejects blurry or glare-covered photos with a hint to retake
""",
        tags=("vision", "kyc", "detection"),
        framework="pytorch",
        framework_version="2.4.1",
        architecture="DETR ResNet-50",
        hyperparameters={"learning_rate": 0.0001, "epochs": 50, "num_queries": 20},
        repo="trust/id-detector",
        datasets={
            "training": ("id-document-boxes", f"{BUCKET}/trust/id-boxes"),
            "evaluation": ("id-document-boxes-holdout", f"{BUCKET}/trust/id-boxes-holdout"),
        },
        metrics={
            "map_50": (0.874, 0.931, 0.004),
            "precision": (0.91, 0.95, 0.004),
            "recall": (0.90, 0.95, 0.004),
            "latency_p95_ms": (58.0, 41.0, 2.0),
            "throughput_rps": (60.0, 95.0, 3.0),
        },
        loss=(2.2, 0.6),
        card=(
            "Locating identity documents in verification uploads for OCR and manual review.",
            "Documents from countries outside the EU/UK are under-represented.",
            "Images are processed in the EU and deleted after verification.",
        ),
        versions=[
            VersionPlan(
                "Fine-tuned DETR on 40k annotated uploads.",
                parent=None,
                external_base_model="facebook/detr-resnet-50",
                card="none",
            ),
            VersionPlan("Glare and blur augmentation.", hyperparameters={"augment": "glare"}),
            VersionPlan("Non-EU documents added.", hyperparameters={"epochs": 60}),
        ],
        aliases=[AliasOp("champion", 3)],
        first_days_ago=90,
        last_days_ago=25,
    ),
    ModelPlan(
        name="demand-forecaster",
        display_name="Warehouse demand forecaster",
        team="forecasting",
        task="forecasting",
        risk_tier="minimal",
        responsible="tomas",
        author="tomas",
        description="""\
## Warehouse demand forecaster

Daily unit demand per SKU and fulfilment centre, 28 days ahead. Feeds the replenishment
planner.

| horizon | used for |
| --- | --- |
| 1–7 days | picking staff rosters |
| 8–28 days | purchase orders |

Versions 1–2 were per-SKU Prophet models; from version 3 a single global LightGBM model
with `lag_*` and calendar features.
""",
        tags=("forecasting", "supply-chain", "batch", "timeseries"),
        framework="prophet",
        framework_version="1.1.5",
        architecture="Prophet per SKU",
        hyperparameters={"seasonality_mode": "multiplicative", "changepoint_prior_scale": 0.05},
        repo="ops/demand",
        datasets={
            "training": ("fc-sku-daily-sales", f"{BUCKET}/ops/sku-daily-sales"),
            "evaluation": ("fc-sku-backtest", f"{BUCKET}/ops/sku-backtest"),
        },
        metrics={
            "rmse": (41.2, 29.5, 0.8),
            "mape": (14.8, 9.6, 0.3),
            "mae": (27.3, 19.1, 0.6),
        },
        loss=(0.9, 0.42),
        card=(
            "Replenishment and staffing plans for the fulfilment centres.",
            "Promotions announced less than a week ahead are not in the features.",
            "None specific; aggregated sales only.",
        ),
        versions=[
            VersionPlan("Prophet per SKU for the top 5,000 SKUs.", card="none"),
            VersionPlan(
                "Holiday regressors and changepoint tuning.",
                hyperparameters={"changepoint_prior_scale": 0.1, "holidays": "de,fr,uk"},
            ),
            VersionPlan(
                "Global LightGBM model over all SKUs (new lineage).",
                parent=None,
                framework="lightgbm",
                framework_version="4.3.0",
                architecture="Global LightGBM with lag features",
                hyperparameters={
                    "objective": "tweedie",
                    "num_leaves": 255,
                    "learning_rate": 0.05,
                    "n_estimators": 2000,
                },
            ),
            VersionPlan(
                "Promotion calendar features.",
                framework="lightgbm",
                framework_version="4.5.0",
                architecture="Global LightGBM with lag features",
            ),
            VersionPlan(
                "Weather features for seasonal categories.",
                framework="lightgbm",
                framework_version="4.5.0",
                architecture="Global LightGBM with lag features",
                card="later",
            ),
            VersionPlan(
                "Retrained with the new fulfilment centre in Lyon.",
                framework="lightgbm",
                framework_version="4.5.0",
                architecture="Global LightGBM with lag features",
                hyperparameters={"n_estimators": 2400},
            ),
        ],
        aliases=[AliasOp("champion", 5), AliasOp("champion", 6, after=6)],
        first_days_ago=175,
        last_days_ago=7,
    ),
    ModelPlan(
        name="call-volume-forecaster",
        display_name="Support call-volume forecaster",
        team="forecasting",
        task="forecasting",
        risk_tier="minimal",
        responsible="tomas",
        author="tomas",
        description="""\
## Support call-volume forecaster

Half-hourly inbound call and chat volume, two weeks ahead, per language. The workforce
planning tool turns it into agent schedules.
""",
        tags=("forecasting", "support", "timeseries"),
        framework="prophet",
        framework_version="1.1.5",
        architecture="Prophet with daily and weekly seasonality",
        hyperparameters={"seasonality_mode": "additive", "interval_width": 0.8},
        repo="ops/call-volume",
        datasets={
            "training": ("support-contact-volume", f"{BUCKET}/ops/contact-volume"),
        },
        metrics={"rmse": (58.0, 44.0, 1.2), "mape": (11.2, 8.1, 0.3)},
        card=(
            "Agent scheduling for the support centres.",
            "Outages cause spikes it cannot foresee; planners add buffers by hand.",
            "None specific; aggregated volumes only.",
        ),
        versions=[
            VersionPlan("First Prophet model per language.", card="none"),
            VersionPlan(
                "Marketing-campaign regressors.", hyperparameters={"regressors": ["campaign"]}
            ),
            VersionPlan("Retrained after the German launch.", card="none"),
        ],
        aliases=[AliasOp("champion", 2)],
        first_days_ago=80,
        last_days_ago=30,
    ),
    ModelPlan(
        name="aml-transaction-monitor",
        display_name="AML transaction monitor",
        team="financial-crime",
        task="classification",
        risk_tier="high",
        responsible="nadia",
        author="nadia",
        restricted=True,
        description="""\
## AML transaction monitor

**Restricted.** Scores payouts and transfers for money-laundering typologies and opens
cases for the financial-crime investigators. Its features and thresholds are not shared
outside the team, so that they cannot be learned and evaded.

- typologies: structuring, rapid movement of funds, mule accounts
- every alert is investigated by a person; suspicious-activity reports are filed by people
""",
        tags=("aml", "compliance", "tabular", "restricted"),
        framework="xgboost",
        framework_version="2.1.1",
        architecture="Gradient-boosted trees + graph features",
        hyperparameters={"n_estimators": 700, "max_depth": 8, "learning_rate": 0.05},
        repo="fincrime/aml-monitor",
        datasets={
            "training": ("aml-alerts-dispositioned", f"{BUCKET}/fincrime/alerts"),
            "evaluation": ("aml-typology-scenarios", f"{BUCKET}/fincrime/scenarios"),
        },
        metrics={
            "auc": (0.861, 0.902, 0.004),
            "precision": (0.22, 0.31, 0.008),
            "recall": (0.81, 0.86, 0.006),
            "f1": DERIVED,
            "latency_p95_ms": (30.0, 22.0, 1.0),
        },
        loss=(0.5, 0.2),
        card=(
            "Prioritising payouts and transfers for investigation by the financial-crime team.",
            "New typologies are missed until investigators label enough cases.",
            "Alerts must never trigger account action without an investigator's decision.",
        ),
        versions=[
            VersionPlan("Replaces the rules engine's top 40 scenarios.", card="none"),
            VersionPlan("Graph features over counterparties.", hyperparameters={"graph_hops": 2}),
            VersionPlan(
                "Retrained on dispositioned alerts from Q4.", hyperparameters={"n_estimators": 900}
            ),
        ],
        aliases=[AliasOp("champion", 3)],
        first_days_ago=105,
        last_days_ago=18,
    ),
]

RESTRICTED_MODEL = "aml-transaction-monitor"
ARCHIVED_MODEL = "churn-predictor-legacy"
MARKER_MODEL = "fraud-classifier"

# --- applications -------------------------------------------------------------------------

# Who registers each team's applications (a contributor of the team).
APPLICATION_OWNERS = {
    "fraud-risk": "engineer",
    "customer-intelligence": "sofia",
    "support-automation": "mei",
    "forecasting": "tomas",
}

# (slug, name, owner team, contact, description, [(model, environment, alias, pinned)])
APPLICATIONS = [
    (
        "checkout-risk-service",
        "Checkout risk service",
        "fraud-risk",
        "payments-risk@northwind.example",
        "Decides approve / step-up / decline for every card payment at checkout.",
        [
            ("fraud-classifier", "production", "", None),
            ("payments-anomaly-detector", "", "champion", None),
        ],
    ),
    (
        "loan-origination",
        "Loan origination portal",
        "fraud-risk",
        "lending-platform@northwind.example",
        "Pay Later applications and underwriting. Pins the credit model version that was "
        "signed off by the credit committee.",
        [("credit-scoring", "", "", 4)],
    ),
    (
        "helpdesk-copilot",
        "Help-desk copilot",
        "support-automation",
        "support-tools@northwind.example",
        "Drafts replies and routes tickets inside the agents' help-desk tool.",
        [
            ("support-assistant-llm", "", "champion", None),
            ("support-ticket-router", "production", "", None),
            ("document-embedder", "production", "", None),
        ],
    ),
    (
        "call-centre-analytics",
        "Call-centre analytics",
        "support-automation",
        "support-tools@northwind.example",
        "Call transcripts, summaries and QA sampling.",
        [("speech-to-text", "production", "", None)],
    ),
    (
        "retention-campaigns",
        "Seller retention campaigns",
        "customer-intelligence",
        "crm@northwind.example",
        "Weekly seller retention offers in the CRM.",
        [("churn-predictor", "", "champion", None)],
    ),
    (
        "storefront",
        "Storefront",
        "customer-intelligence",
        "storefront@northwind.example",
        "The buyer-facing marketplace web and mobile apps.",
        [
            ("recommendation-ranker", "production", "", None),
            ("image-moderation", "production", "", None),
        ],
    ),
    (
        "replenishment-planner",
        "Replenishment planner",
        "forecasting",
        "fc-planning@northwind.example",
        "Purchase orders and staffing plans for the fulfilment centres.",
        [("demand-forecaster", "production", "", None)],
    ),
]
