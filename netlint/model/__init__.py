"""The shared vocabulary: fact dataclasses every stage uses. Imports nothing else of netlint."""

from .bridges import Bridge, BridgeLink, BridgeLinkData, BridgePort, BrctlData
from .diagnostic import Diagnostic, Severity
from .interfaces import Address, Interface, InterfacesData, VirtualFunction
from .libvirt import DhcpHost, DhcpRange, LibvirtIp, LibvirtNetwork, LibvirtNetworkData, LibvirtRoute
from .origin import Origin
from .parse_result import ParseResult, Status
from .routes import IpRule, IpRulesData, NextHop, Route, RoutePrintData, RoutesData, WindowsInterface
from .source import Kind, Role, Source
from .sysctl import Sysctl, SysctlData

__all__ = [
    "Address", "Bridge", "BridgeLink", "BridgeLinkData", "BridgePort", "BrctlData", "DhcpHost", "DhcpRange",
    "Diagnostic", "Interface", "InterfacesData", "IpRule", "IpRulesData", "Kind", "LibvirtIp",
    "LibvirtNetwork", "LibvirtNetworkData", "LibvirtRoute", "NextHop", "Origin", "ParseResult", "Role", "Route",
    "RoutePrintData", "RoutesData", "Severity", "Source", "Status", "Sysctl", "SysctlData",
    "VirtualFunction", "WindowsInterface",
]
