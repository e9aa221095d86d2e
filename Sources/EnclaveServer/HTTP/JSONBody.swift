import EnclaveCore
import Foundation
import Hummingbird
import Logging
import HTTPTypes
import NIOCore

/// Reading and writing JSON bodies with Enclave's rules: bodies over 1 MiB are refused (413), malformed
/// JSON or a wrong shape is a 422 saying what was wrong, and responses are compact JSON.
enum JSONBody {
    static let limit = 1024 * 1024

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return try decode(type, from: Data(buffer.readableBytesView))
    }

    /// Decodes JSON text with the same rules and messages as a request body (the portal's JSON text areas).
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if data.isEmpty { throw EnclaveError.unprocessable("The request body is empty: send a JSON object") }
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw EnclaveError.unprocessable("The request body is not valid JSON")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw EnclaveError.unprocessable("The request body does not have the expected shape: \(describe(error))")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let p = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "the body" : "'\(p)'"
        }
        switch error {
        case .keyNotFound(let key, let ctx): return "field '\((ctx.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is required"
        case .typeMismatch(let type, let ctx): return "\(path(ctx.codingPath)) must be \(typeName(type))"
        case .valueNotFound(let type, let ctx): return "\(path(ctx.codingPath)) must be \(typeName(type)), not null"
        case .dataCorrupted(let ctx): return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Double.Type: "a number"
        case is [String].Type: "an array of strings"
        default: "an object"
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        var headers = headers
        headers[.contentType] = "application/json"
        let data = try encoder.encode(value)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Checks a path parameter is a UUID, as Azure TRE does (422 otherwise).
func requireUUID(_ context: some RequestContext, _ name: String) throws -> String {
    let value = try context.parameters.require(name)
    guard UUID(uuidString: value) != nil else {
        throw EnclaveError.unprocessable("'\(value)' is not a valid id: \(name) must be a UUID")
    }
    return value.lowercased()
}
