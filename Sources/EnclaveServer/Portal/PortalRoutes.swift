import EnclaveAuth
import EnclaveCore
import EnclavePortal
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The portal's routes: static files, then every page behind the browser session.
///
/// Page controllers live beside this file, one per area (home, workspaces, airlock, admin, account); each
/// registers on the `PortalContext` group, so every page needs a session and errors render as pages.
enum PortalRoutes {
    static func register(
        on router: Router<EnclaveRequestContext>, portal: Portal, airlock: AirlockController, provider: BuiltInProvider,
        health: HealthReport, session: @escaping @Sendable (String) async throws -> BrowserSession?
    ) {
        registerStatic(on: router, views: portal.views)
        let pages = router.group()
            .add(middleware: PortalErrorMiddleware(views: portal.views, contentSecurityPolicy: portal.contentSecurityPolicy))
            .add(middleware: PortalSessionMiddleware(session: session))
            .group(context: PortalContext.self)
        HomePage(portal: portal).register(on: pages)
        WorkspacePages(portal: portal).register(on: pages)
        ResourceFormPages(portal: portal).register(on: pages)
        AirlockPages(portal: portal, airlock: airlock).register(on: pages)
        AdminPages(portal: portal, provider: provider, health: health).register(on: pages)
        AccountPage(portal: portal, provider: provider).register(on: pages)
    }

    /// `/static/NAME`: the portal's CSS and JavaScript. Pages link them as `NAME?v=HASH`, so they are cacheable
    /// for a year; an unversioned request revalidates by ETag.
    static func registerStatic(on router: Router<EnclaveRequestContext>, views: PortalViews) {
        router.get("/static/:name") { request, context in
            guard let name = context.parameters.get("name"), let asset = views.assets[name] else {
                throw HTTPError(.notFound, message: "There is no such file")
            }
            var headers = HTTPFields()
            headers[.contentType] = asset.contentType
            headers[.eTag] = "\"\(asset.version)\""
            if let contentTypeOptions = HTTPField.Name("X-Content-Type-Options") { headers[contentTypeOptions] = "nosniff" }
            let versioned = request.uri.queryParameters.get("v") == asset.version
            headers[.cacheControl] = versioned ? "public, max-age=31536000, immutable" : "no-cache"
            if request.headers[.ifNoneMatch] == "\"\(asset.version)\"" {
                return Response(status: .notModified, headers: headers)
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
        }
    }
}
