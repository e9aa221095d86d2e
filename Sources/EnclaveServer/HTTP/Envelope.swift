import EnclaveCore

/// `{"<key>": value}`: Azure TRE wraps every resource and list in an object named for its type.
struct Envelope<Value: Encodable>: Encodable {
    let key: String
    let value: Value

    init(_ key: String, _ value: Value) {
        self.key = key
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encode(value, forKey: AnyKey(stringValue: key))
    }
}

/// A resource as the API returns it: with `availableUpgrades`, and for non-admins, shared services'
/// properties cut down to what Azure TRE's `RestrictedResource` shows.
struct ResourceView: Encodable {
    static let restrictedProperties: Set<String> = [
        "display_name", "description", "overview", "connection_uri", "is_exposed_externally",
    ]

    var resource: Resource
    var availableUpgrades: [AvailableUpgrade]?
    var restricted = false

    func encode(to encoder: any Encoder) throws {
        var shown = resource
        if restricted { shown.properties = shown.properties.filter { Self.restrictedProperties.contains($0.key) } }
        try shown.encode(to: encoder)
        if let availableUpgrades {
            var c = encoder.container(keyedBy: AnyKey.self)
            try c.encode(availableUpgrades, forKey: AnyKey(stringValue: "availableUpgrades"))
        }
    }
}
