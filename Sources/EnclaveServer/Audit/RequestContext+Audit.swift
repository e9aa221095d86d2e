import Hummingbird
import Logging

extension RequestContext {
    /// Hummingbird's id for this request (`hb.request.id` in the logger metadata): recorded in audit records so a
    /// record leads to the request's log lines.
    var requestId: String? {
        logger[metadataKey: "hb.request.id"].map { "\($0)" }
    }
}
