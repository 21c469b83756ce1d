"""From an encounter's decision history to where each of its codes stands now."""

from __future__ import annotations

from collections.abc import Iterable

from medcoder_desktop.core.models import IN_EFFECT, CodeState, Decision


def code_states(decisions: Iterable[Decision]) -> list[CodeState]:
    """The latest decision that is not undone, per (system, code), in decision order.

    An edit puts its new code in effect and takes the code it replaced out ("replaced"), unless a
    later decision about the replaced code says otherwise.
    """
    latest: dict[tuple[str, str], CodeState] = {}
    for d in sorted(decisions, key=lambda d: d.id):
        if d.undone:
            continue
        latest.pop((d.system, d.code), None)  # re-insert: order by the latest decision
        latest[(d.system, d.code)] = CodeState(
            code=d.code, system=d.system, action=d.action, in_effect=d.action in IN_EFFECT,
            decision_id=d.id, user=d.user, at=d.at, reason=d.reason, replaced_code=d.replaced_code,
        )
        if d.action == "edit" and d.replaced_code and d.replaced_code != d.code:
            latest.pop((d.system, d.replaced_code), None)
            latest[(d.system, d.replaced_code)] = CodeState(
                code=d.replaced_code, system=d.system, action="replaced", in_effect=False,
                decision_id=d.id, user=d.user, at=d.at, replaced_by=d.code,
            )
    return list(latest.values())
