// The host's session: a long-lived shell process on this machine, whose methods are the protocol's already.
extension ShellSession: CommandSession {}
