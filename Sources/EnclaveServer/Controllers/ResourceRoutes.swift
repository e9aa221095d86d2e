import EnclaveCore
import EnclaveStore
import Foundation
import Hummingbird
import Logging
import HTTPTypes

/// The request handling shared by all four resource types: create, patch, delete, invoke-action,
/// operations and history, with Azure TRE's status codes and `Location` header.
struct ResourceRoutes: Sendable {
    let controlPlane: ControlPlane
    let access: Access

    var store: any Store { controlPlane.store }

    struct CreateBody: Decodable {
        var templateName: String
        var properties: [String: JSONValue]?
    }

    /// 202 + `{"operation": …}` + `Location`, as every asynchronous mutation answers.
    func accepted(_ op: ResourceOperation, status: HTTPResponse.Status = .accepted) throws -> Response {
        var headers = HTTPFields()
        headers[.location] = op.location
        return try JSONBody.response(Envelope("operation", op), status: status, headers: headers)
    }

    func create(
        _ type: ResourceType, request: Request, placement: ControlPlane.Placement, actor: Actor, requestId: String?
    ) async throws -> Response {
        let body = try await JSONBody.decode(CreateBody.self, from: request)
        let op = try await controlPlane.create(
            type, templateName: body.templateName, properties: body.properties ?? [:], placement: placement, actor: actor,
            requestId: requestId)
        return try accepted(op)
    }

    func patch(_ resource: Resource, request: Request, actor: Actor, requestId: String?) async throws -> Response {
        guard let name = HTTPField.Name("etag"), let etag = request.headers[name] else {
            throw EnclaveError.unprocessable(
                "The etag header is required: send the resource's current _etag (or * to overwrite)")
        }
        let body = try await JSONBody.decode(ControlPlane.Patch.self, from: request)
        let force = request.uri.queryParameters.get("force_version_update").map { $0.lowercased() == "true" } ?? false
        let op = try await controlPlane.update(
            resource, patch: body, etag: etag, forceVersionUpdate: force, actor: actor, requestId: requestId)
        return try accepted(op)
    }

    func delete(_ resource: Resource, actor: Actor, requestId: String?) async throws -> Response {
        try accepted(try await controlPlane.delete(resource, actor: actor, requestId: requestId), status: .ok)
    }

    func invoke(_ resource: Resource, request: Request, actor: Actor, requestId: String?) async throws -> Response {
        guard let action = request.uri.queryParameters.get("action"), !action.isEmpty else {
            throw EnclaveError.unprocessable("The action query parameter is required: invoke-action?action=NAME")
        }
        return try accepted(try await controlPlane.invoke(resource, action: action, actor: actor, requestId: requestId))
    }

    func operations(_ resource: Resource) async throws -> Response {
        try JSONBody.response(Envelope("operations", try await store.operations(resourceId: resource.id)))
    }

    func operation(_ resource: Resource, context: some RequestContext) async throws -> Response {
        let opId = try requireUUID(context, "operationId")
        guard let op = try await store.operation(id: opId), op.resourceId == resource.id else {
            throw EnclaveError.notFound("ResourceOperation \(opId) does not exist for resource \(resource.id)")
        }
        return try JSONBody.response(Envelope("operation", op))
    }

    func history(_ resource: Resource) async throws -> Response {
        try JSONBody.response(Envelope("resource_history", try await store.history(resourceId: resource.id)))
    }

    func view(_ resource: Resource, restricted: Bool = false) async throws -> ResourceView {
        ResourceView(
            resource: resource, availableUpgrades: try await controlPlane.availableUpgrades(for: resource),
            restricted: restricted)
    }

    func one(_ key: String, _ resource: Resource, restricted: Bool = false) async throws -> Response {
        try JSONBody.response(Envelope(key, try await view(resource, restricted: restricted)))
    }

    func list(_ key: String, _ resources: [Resource], restricted: Bool = false) async throws -> Response {
        var views: [ResourceView] = []
        views.reserveCapacity(resources.count)
        for resource in resources { views.append(try await view(resource, restricted: restricted)) }
        return try JSONBody.response(Envelope(key, views))
    }
}
