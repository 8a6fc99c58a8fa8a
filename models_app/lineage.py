"""The lineage graph of a version page, laid out for a server-rendered SVG.

A pure function of plain data: the ancestors (root first), the version, its children and the
datasets that fed each of them go in; boxes with coordinates and edge paths come out, and the
template draws them. The layout is layered and needs no JavaScript: the base model and the
ancestors above, the version, its children below (indented, like a tree), and the datasets in
a column to the right, each joined to every version it fed.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NODE_WIDTH = 290
NODE_HEIGHT = 52
ROW_GAP = 30
CHILD_INDENT = 56
DATASET_WIDTH = 300
DATASET_HEIGHT = 44
DATASET_GAP = 10
COLUMN_GAP = 150
PADDING = 14
# Roughly the advance of one character of the 13px label font, to cut labels to fit a box.
CHAR_WIDTH = 7.9
SUB_CHAR_WIDTH = 6.4
# A long chain shows the nearest generations; the list beside the graph names them all.
MAX_ANCESTORS_SHOWN = 8
MAX_CHILDREN_SHOWN = 12
ROLE_ORDER = ("training", "validation", "evaluation")


@dataclass
class Node:
    id: str
    kind: str  # ancestor, current, child, external, note, dataset
    label: str
    sublabel: str = ""
    title: str = ""  # the untruncated text, shown as a tooltip
    href: str = ""
    role: str = ""  # datasets: training / validation / evaluation
    x: float = 0
    y: float = 0
    width: float = NODE_WIDTH
    height: float = NODE_HEIGHT

    @property
    def text_x(self) -> float:
        return self.x + 12

    @property
    def label_y(self) -> float:
        return self.y + (self.height / 2 + 4 if not self.sublabel else self.height / 2 - 3)

    @property
    def sublabel_y(self) -> float:
        return self.y + self.height / 2 + 14

    @property
    def flag_x(self) -> float:
        """Where right-aligned text inside the box ends."""
        return self.x + self.width - 10


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # "derived" (parent → child) or "dataset"
    path: str
    role: str = ""


@dataclass
class LineageGraph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: float = 0
    height: float = 0

    def node(self, node_id: str) -> Node:
        return next(node for node in self.nodes if node.id == node_id)

    @property
    def roles(self) -> list[str]:
        """The dataset roles present, for the legend."""
        present = {node.role for node in self.nodes if node.kind == "dataset"}
        return [role for role in ROLE_ORDER if role in present]


def fit(text: str, width: float, char_width: float = CHAR_WIDTH) -> str:
    """``text`` cut with an ellipsis so that it fits ``width`` pixels of a box."""
    limit = max(int((width - 24) / char_width), 4)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit_keeping(head: str, tail: str, width: float, char_width: float = CHAR_WIDTH) -> str:
    """``head + tail`` cut to fit ``width``, shortening ``head`` so that ``tail`` (a version
    number) stays readable: "support-assistant-l… v6", never "support-assistant-llm …"."""
    whole = head + tail
    if fit(whole, width, char_width) == whole or len(tail) * char_width > width / 2:
        # A tail as long as half the box is not worth keeping whole; cut like anything else.
        return fit(whole, width, char_width)
    return fit(head, width - len(tail) * char_width, char_width) + tail


def _version_node(data: Mapping[str, Any], kind: str) -> Node:
    label = f"{data['model']} v{data['version']}"
    sublabel = data.get("sublabel") or ""
    # The current version's box also says "this version" at the right of its first line.
    room = NODE_WIDTH - (78 if kind == "current" else 0)
    return Node(
        id=f"v{data['id']}",
        kind=kind,
        label=fit_keeping(data["model"], f" v{data['version']}", room),
        sublabel=fit(sublabel, NODE_WIDTH, SUB_CHAR_WIDTH),
        title=f"{label}\n{sublabel}".strip(),
        href=data.get("href") or "",
    )


def build_lineage_graph(
    *,
    ancestors: Sequence[Mapping[str, Any]],
    current: Mapping[str, Any],
    children: Sequence[Mapping[str, Any]] = (),
    datasets: Sequence[Mapping[str, Any]] = (),
    external_base: str = "",
    hidden_ancestor: bool = False,
    truncated: bool = False,
    more_children: bool = False,
) -> LineageGraph:
    """Lay out the lineage around ``current``.

    Versions are {id, model, version, sublabel, href}; ``ancestors`` run root first.
    ``datasets`` are links {version_id, dataset_id, name, version, role, digest}; a dataset
    that fed several versions is one box with an edge to each. ``hidden_ancestor`` and
    ``truncated`` put a note above the oldest ancestor shown instead of the base model.
    """
    graph = LineageGraph()
    chain: list[Node] = []
    older = len(ancestors) - MAX_ANCESTORS_SHOWN
    if hidden_ancestor:
        chain.append(Node("hidden", "note", "A version you cannot see", "derived from it"))
    elif truncated or older > 0:
        chain.append(Node("older", "note", "Older generations", "listed beside the graph"))
    elif external_base:
        chain.append(
            Node(
                "external",
                "external",
                fit(external_base, NODE_WIDTH),
                "external base model",
                title=external_base,
                href=external_base if external_base.startswith(("https://", "http://")) else "",
            )
        )
    shown_ancestors = list(ancestors)[-MAX_ANCESTORS_SHOWN:]
    chain += [_version_node(data, "ancestor") for data in shown_ancestors]
    chain.append(_version_node(current, "current"))
    column_x = PADDING
    y = PADDING
    for node in chain:
        node.x, node.y = column_x, y
        y += NODE_HEIGHT + ROW_GAP
    for upper, lower in zip(chain, chain[1:], strict=False):
        graph.edges.append(Edge(upper.id, lower.id, "derived", _vertical(upper, lower)))

    current_node = chain[-1]
    kids = [_version_node(data, "child") for data in list(children)[:MAX_CHILDREN_SHOWN]]
    if more_children or len(children) > MAX_CHILDREN_SHOWN:
        kids.append(Node("more", "note", "More derived versions", "listed beside the graph"))
    for node in kids:
        node.x, node.y = column_x + CHILD_INDENT, y
        y += NODE_HEIGHT + ROW_GAP // 2
        graph.edges.append(Edge(current_node.id, node.id, "derived", _elbow(current_node, node)))
    versions = chain + kids
    graph.nodes = versions
    lineage_bottom = y - (ROW_GAP // 2 if kids else ROW_GAP)

    by_id = {node.id: node for node in versions}
    dataset_nodes: dict[str, Node] = {}
    links = [link for link in datasets if f"v{link['version_id']}" in by_id]
    # Each dataset sits level with the first version it fed, or below the one before it.
    links.sort(
        key=lambda link: (
            by_id[f"v{link['version_id']}"].y,
            _role_rank(link.get("role", "")),
            link.get("name", ""),
        )
    )
    dataset_x = column_x + NODE_WIDTH + CHILD_INDENT + COLUMN_GAP
    next_free = PADDING
    for link in links:
        key = f"d{link['dataset_id']}-{link.get('role', '')}"
        owner = by_id[f"v{link['version_id']}"]
        node = dataset_nodes.get(key)
        if node is None:
            name = link.get("name", "")
            version = link.get("version") or ""
            label = f"{name}@{version}" if version else name
            digest = link.get("digest") or ""
            node = Node(
                id=key,
                kind="dataset",
                label=fit_keeping(name, f"@{version}" if version else "", DATASET_WIDTH),
                sublabel=fit(
                    f"{link.get('role', '')} · {digest}" if digest else link.get("role", ""),
                    DATASET_WIDTH,
                    SUB_CHAR_WIDTH,
                ),
                title="\n".join(part for part in (label, link.get("role", ""), digest) if part),
                role=link.get("role", ""),
                x=dataset_x,
                y=max(next_free, owner.y + (NODE_HEIGHT - DATASET_HEIGHT) / 2),
                width=DATASET_WIDTH,
                height=DATASET_HEIGHT,
            )
            next_free = node.y + DATASET_HEIGHT + DATASET_GAP
            dataset_nodes[key] = node
        graph.edges.append(Edge(owner.id, node.id, "dataset", _sideways(owner, node), node.role))
    graph.nodes += list(dataset_nodes.values())

    right = dataset_x + DATASET_WIDTH if dataset_nodes else column_x + NODE_WIDTH + CHILD_INDENT
    bottom = max([lineage_bottom] + [node.y + node.height for node in dataset_nodes.values()])
    graph.width = right + PADDING
    graph.height = bottom + PADDING
    return graph


def _role_rank(role: str) -> int:
    return ROLE_ORDER.index(role) if role in ROLE_ORDER else len(ROLE_ORDER)


def _vertical(upper: Node, lower: Node) -> str:
    x = upper.x + 28
    return f"M{x:g},{upper.y + upper.height:g} L{x:g},{lower.y - 1:g}"


def _elbow(parent: Node, child: Node) -> str:
    """Down from the parent's left side, then right into the child, like a file tree."""
    x = parent.x + 28
    middle = child.y + child.height / 2
    return (
        f"M{x:g},{parent.y + parent.height:g} L{x:g},{middle - 8:g} "
        f"Q{x:g},{middle:g} {x + 8:g},{middle:g} L{child.x - 1:g},{middle:g}"
    )


def _sideways(source: Node, target: Node) -> str:
    start_x, start_y = source.x + source.width, source.y + source.height / 2
    end_x, end_y = target.x, target.y + target.height / 2
    bend = (end_x - start_x) / 2
    return (
        f"M{start_x:g},{start_y:g} C{start_x + bend:g},{start_y:g} "
        f"{end_x - bend:g},{end_y:g} {end_x - 2:g},{end_y:g}"
    )
