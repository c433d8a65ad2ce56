"""The shared vocabulary: fact dataclasses every stage uses. Imports nothing else of netlint."""

from .bridges import Bridge, BridgeLink, BridgeLinkData, BridgePort, BrctlData
from .diagnostic import Diagnostic, Severity
from .interfaces import Address, Interface, InterfacesData
from .libvirt import DhcpRange, LibvirtIp, LibvirtNetwork, LibvirtNetworkData
from .origin import Origin
from .parse_result import ParseResult, Status
from .routes import IpRule, IpRulesData, NextHop, Route, RoutePrintData, RoutesData, WindowsInterface
from .source import Kind, Role, Source
from .sysctl import Sysctl, SysctlData

__all__ = [
    "Address", "Bridge", "BridgeLink", "BridgeLinkData", "BridgePort", "BrctlData", "DhcpRange",
    "Diagnostic", "Interface", "InterfacesData", "IpRule", "IpRulesData", "Kind", "LibvirtIp",
    "LibvirtNetwork", "LibvirtNetworkData", "NextHop", "Origin", "ParseResult", "Role", "Route",
    "RoutePrintData", "RoutesData", "Severity", "Source", "Status", "Sysctl", "SysctlData",
    "WindowsInterface",
]
