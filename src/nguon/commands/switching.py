"""What a switched-off endpoint still plays: emergencies, and nothing else.

A `switch_off` command is the hub's "tắt" of a cluster "trong trường hợp đột xuất, khẩn cấp
theo đề nghị của Sở Thông tin và Truyền thông" (000 and 004, Điều 7.2), the department's measure
"nhằm kịp thời ngăn chặn những thiệt hại" when a cluster has a technical or security incident
(001 Điều 12.2; 000/004 Điều 6.10; 002 Điều 11.4 and 16.5 on reporting incidents). It silences
the programme. It does not silence an emergency: 002 Điều 8.1 says an emergency bulletin is sent
to the commune radio "để phát ngay", and Điều 17 asks the commune to keep its radio "hoạt động
liên tục". What the hub sends is the hub's own approved content, so an incident at the device is
no reason to keep a warning of a flood or a fire from the people around it. So an emergency
reaches a switched-off endpoint: the playlist keeps its emergencies, and the device, told of
one (SSE, webhook, MQTT `emergency`), plays it whatever its switch says.

`Endpoint.enabled` is a different thing: an endpoint taken out of service in the registry
(dismantled, replaced, not yet installed). A disabled endpoint gets nothing, emergencies
included, and no commands; a switched-off one is in service, reachable, and is switched on
again by a `switch_on` command.
"""

from nguon.bulletins.enums import Priority
from nguon.dispatch.playlist import OnAir


def emergency_reaches_switched_off(bulletin: OnAir) -> bool:
    """Whether a switched-off endpoint still plays this bulletin (002 Điều 8.1, 17)."""
    return bulletin.priority is Priority.emergency
