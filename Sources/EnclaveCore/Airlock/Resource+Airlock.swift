extension Resource {
    /// Whether a workspace's airlock is on: `enable_airlock` defaults to true, so only an explicit `false`
    /// turns it off (the airlock API then refuses new requests and the portal hides its link).
    public var isAirlockEnabled: Bool {
        if case .bool(false)? = properties["enable_airlock"] { return false }
        return true
    }
}
