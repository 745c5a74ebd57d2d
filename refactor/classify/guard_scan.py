"""What the guard analysis reads from one function definition or one DRM ops table.

The vocabulary of `unguarded-hw-access` (which getters give devm_ hardware, which calls
touch it, which structs are DRM ops tables, what a guarded callback returns once the
device is gone) and the two scans over tree-sitter nodes that the analysis
(`guards.analyse()`), the guard planner and the guard invariants share: the entries of a
table (`tables()`) and the calls of a function body (`scan()`).  It imports only the
hook vocabulary and the C index, so each of them can use it without the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter

from refactor.classify import hookmodel
from refactor.csrc import cindex

GETTER = re.compile(
    r"^(devm_(ioremap\w*|platform_ioremap_resource\w*|platform_get_and_ioremap_resource|of_iomap|"
    r"regmap_init\w*|regmap_field_alloc|clk_get\w*|clk_bulk_get\w*|regulator_get\w*|"
    r"regulator_bulk_get\w*|reset_control_get\w*|reset_control_array_get\w*|"
    r"reset_control_bulk_get\w*|gpiod_get\w*|phy_get|phy_optional_get|of_phy_get\w*)|"
    r"__devm_regmap_init\w*)$"
)
ACCESS = re.compile(
    r"^(ioread(8|16|32|64)\w*|iowrite(8|16|32|64)\w*|read[bwlq](_relaxed)?|write[bwlq](_relaxed)?|"
    r"__raw_(read|write)[bwlq]|read[bwlq]_poll_timeout\w*|readx_poll_timeout\w*|"
    r"memcpy_(to|from)io|memset_io|regmap_(read|write|update_bits|set_bits|clear_bits|test_bits|"
    r"bulk_read|bulk_write|raw_read|raw_write|multi_reg_write|noinc_read|noinc_write|"
    r"read_poll_timeout|write_bits|field_\w+)\w*|"
    r"clk_(prepare_enable|disable_unprepare|prepare|unprepare|enable|disable|set_rate|get_rate|"
    r"round_rate|set_parent|bulk_\w+)|regulator_(enable|disable|set_voltage|get_voltage|"
    r"is_enabled|bulk_enable|bulk_disable)|reset_control_(assert|deassert|reset|status|bulk_\w+)|"
    r"gpiod_(set|get)_\w+|phy_(power_on|power_off|init|exit|configure|set_mode\w*|validate|"
    r"calibrate))$"
)
# transfers on the bus device the driver is bound to (or its bus): hardware access whatever
# the argument names, since the device is the hardware (mipi-dbi guards every SPI access)
BUS_ACCESS = re.compile(
    r"^(spi_(write|read|sync|sync_transfer|sync_locked|write_then_read|async|w8r8|w8r16|w8r16be)|"
    r"i2c_(transfer|master_send|master_recv|smbus_\w+)|"
    r"usb_(control_msg|bulk_msg|interrupt_msg|submit_urb|control_msg_send|control_msg_recv)|"
    r"mipi_dsi_(dcs_\w+|generic_write|generic_read|turn_on_peripheral|shutdown_peripheral|"
    r"set_maximum_return_packet_size))$"
)
TABLES = {
    "struct drm_crtc_funcs": "crtc",
    "struct drm_crtc_helper_funcs": "crtc-helper",
    "struct drm_plane_funcs": "plane",
    "struct drm_plane_helper_funcs": "plane-helper",
    "struct drm_encoder_funcs": "encoder",
    "struct drm_encoder_helper_funcs": "encoder-helper",
    "struct drm_connector_funcs": "connector",
    "struct drm_connector_helper_funcs": "connector-helper",
    "struct drm_simple_display_pipe_funcs": "pipe",
    "struct drm_mode_config_funcs": "mode-config",
    "struct drm_mode_config_helper_funcs": "mode-config-helper",
    "struct drm_bridge_funcs": "bridge",
    "struct drm_driver": "driver",
}
# the value a guarded callback returns once the device is gone, by hook, then by type
RETURN_BY_HOOK = {"get_modes": "0", "detect": "connector_status_disconnected",
                  "detect_ctx": "connector_status_disconnected"}  # fmt: skip
RETURN_BY_TYPE = {"void": "", "int": "-ENODEV", "long": "-ENODEV", "ssize_t": "-ENODEV",
                  "enum drm_mode_status": "MODE_ERROR", "bool": "false", "u32": "0",
                  "enum drm_connector_status": "connector_status_disconnected"}  # fmt: skip
# parameters that name the drm_device at the top of a callback, beyond cfunc.drm_at()
DRM_OF_PARAM = {"struct drm_simple_display_pipe": "{}->crtc.dev", "struct drm_atomic_state": "{}->dev",
                "struct drm_framebuffer": "{}->dev", "struct drm_bridge": "{}->dev"}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """A function placed in a DRM ops table (or an ioctl table)."""

    function: str
    table: str  # kind from TABLES, or "ioctl"
    hook: str  # the field it fills (the ioctl's name for ioctls)

    @property
    def role(self) -> str:
        """hardware, disable, release, state or pure (hookmodel.role)."""
        return hookmodel.role(self.hook, self.table)


@dataclass
class Body:
    """What the analysis needs of one function definition.  It holds the definition's
    place, not its tree-sitter node: a node keeps its whole tree alive, and the analyses of
    every module outlive the parse cache (`node_in()` finds the node again)."""

    name: str
    file: str
    src: bytes
    start_byte: int
    end_byte: int
    first_line: int  # 1-based
    accesses: list[tuple[int, str, str]] = field(default_factory=list)  # line, call, hw expression
    calls: list[tuple[int, str]] = field(default_factory=list)  # line, callee
    guards: list[tuple[int, int]] = field(default_factory=list)  # drm_dev_enter .. last exit
    books: list[tuple[int, str]] = field(default_factory=list)  # line, refcounted acquire/release
    book_args: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # line -> (call, args)
    events: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)  # line, call, args

    @classmethod
    def of(cls, name: str, file: str, node: tree_sitter.Node, src: bytes) -> Body:
        return cls(name, file, src, node.start_byte, node.end_byte, node.start_point[0] + 1)

    def guarded(self, line: int) -> bool:
        return any(a <= line <= b for a, b in self.guards)

    def text(self) -> str:
        """The definition's text."""
        return self.src[self.start_byte : self.end_byte].decode(errors="replace")

    def node_in(self, tree: tree_sitter.Tree) -> tree_sitter.Node:
        """The definition's node in `tree`, the file's parse."""
        node = tree.root_node.descendant_for_byte_range(self.start_byte, self.end_byte)
        while node is not None and node.type != "function_definition":
            node = node.parent
        if node is None or (node.start_byte, node.end_byte) != (self.start_byte, self.end_byte):
            raise ValueError(f"{self.file}: no definition of {self.name}() at byte {self.start_byte}")
        return node


def tables(src: bytes, node: tree_sitter.Node, entries: dict[str, list[Entry]]) -> None:
    """`static const struct drm_*_funcs x = { .hook = fn, ... };` and ioctl tables."""
    text = src[node.start_byte : node.end_byte]
    kind = ""
    tnode = node.child_by_field_name("type")
    if tnode is not None:
        kind = TABLES.get(
            " ".join(src[tnode.start_byte : tnode.end_byte].decode(errors="replace").split()), ""
        )
    for n in cindex.walk(node):
        if kind and n.type == "initializer_pair":
            designator = n.child_by_field_name("designator")
            value = n.child_by_field_name("value")
            if designator is not None and value is not None and value.type == "identifier":
                hook = src[designator.start_byte : designator.end_byte].decode().lstrip(".").strip()
                fn = src[value.start_byte : value.end_byte].decode()
                entries.setdefault(fn, []).append(Entry(fn, kind, hook))
    if b"DRM_IOCTL_DEF_DRV" in text:
        for call in cindex.calls(text, ["DRM_IOCTL_DEF_DRV"]):
            if len(call.args) >= 2 and re.fullmatch(r"\w+", call.args[1]):
                entries.setdefault(call.args[1], []).append(Entry(call.args[1], "ioctl", call.args[0]))


def scan(
    body: Body, node: tree_sitter.Node, unplug: list[tuple[str, int, str, str]],
    shutdown: dict[tuple[str, str], list[int]],
) -> None:  # fmt: skip
    """Record the calls of the definition `node` (`body`'s) in `body`, its unplug and
    shutdown calls in `unplug` and `shutdown`."""
    src = body.src
    enters: list[int] = []
    exits: list[int] = []
    for n in cindex.walk(node):
        if n.type != "call_expression":
            continue
        fn = n.child_by_field_name("function")
        if fn is None or fn.type != "identifier":
            continue
        name = src[fn.start_byte : fn.end_byte].decode()
        line = n.start_point[0] + 1
        if name == "drm_dev_enter":
            enters.append(line)
        elif name == "drm_dev_exit":
            exits.append(line)
        elif name in ("drm_dev_unregister", "drm_dev_unplug"):
            unplug.append((body.file, line, body.name, name))
        elif name == "drm_atomic_helper_shutdown":
            shutdown.setdefault((body.file, body.name), []).append(line)
        elif hookmodel.BOOKKEEPING.match(name):
            body.books.append((line, name))
            args = n.child_by_field_name("arguments")
            text = "" if args is None else src[args.start_byte : args.end_byte].decode(errors="replace")
            body.book_args.setdefault(line, []).append((name, " ".join(text.split())))
        elif name in hookmodel.EVENT:
            args = n.child_by_field_name("arguments")
            parts = [] if args is None else [src[x.start_byte : x.end_byte].decode(errors="replace")
                                              for x in args.named_children]  # fmt: skip
            body.events.append((line, name, tuple(" ".join(x.split()) for x in parts)))
        elif ACCESS.match(name) or BUS_ACCESS.match(name):
            args = n.child_by_field_name("arguments")
            text = "" if args is None else src[args.start_byte : args.end_byte].decode(errors="replace")
            body.accesses.append((line, name, " ".join(text.split())))
        else:
            body.calls.append((line, name))
    for e in enters:
        after = [x for x in exits if x >= e]
        if after:
            body.guards.append((e, max(after)))
