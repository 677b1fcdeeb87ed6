"""The XenAPI backend: XenServer / XCP-ng pools behind the neutral host interface.

Only this package imports `XenAPI`; the fleet, batch mode and the console see an
`XapiHost` as any other `HostBackend`.
"""
