import EnclavePortal

// The workspace page lists dozens of services and operations; reading each row's fields through Mirror
// was most of its render time, so the rows (and the page model their lookups climb to) name their fields.
// `PortalWorkspaceTests` checks every stored property is reachable here.

extension WorkspaceViews.Service: TemplateFields {
    func child(named name: String) -> Any? {
        switch name {
        case "id": self.id
        case "name": self.name
        case "description": self.description
        case "templateName": self.templateName
        case "templateVersion": self.templateVersion
        case "status": self.status
        case "statusClass": self.statusClass
        case "href": self.href
        case "connectURL": self.connectURL
        case "canManage": self.canManage
        case "canAddUserResource": self.canAddUserResource
        case "editHref": self.editHref
        case "deleteHref": self.deleteHref
        case "newUserResourceHref": self.newUserResourceHref
        default: nil
        }
    }
}

extension WorkspaceViews.UserResource: TemplateFields {
    func child(named name: String) -> Any? {
        switch name {
        case "id": self.id
        case "name": self.name
        case "serviceName": self.serviceName
        case "serviceHref": self.serviceHref
        case "templateName": self.templateName
        case "owner": self.owner
        case "status": self.status
        case "statusClass": self.statusClass
        case "powerState": self.powerState
        case "connectURL": self.connectURL
        case "actionsPath": self.actionsPath
        case "canStart": self.canStart
        case "canStop": self.canStop
        case "editHref": self.editHref
        case "deleteHref": self.deleteHref
        default: nil
        }
    }
}

extension WorkspaceViews.Operation: TemplateFields {
    func child(named name: String) -> Any? {
        switch name {
        case "id": self.id
        case "title": self.title
        case "status": self.status
        case "statusText": self.statusText
        case "statusClass": self.statusClass
        case "message": self.message
        case "userName": self.userName
        case "created": self.created
        case "createdISO": self.createdISO
        case "updated": self.updated
        case "href": self.href
        case "pollURL": self.pollURL
        case "inFlight": self.inFlight
        case "steps": self.steps
        default: nil
        }
    }
}

extension WorkspaceViews.Step: TemplateFields {
    func child(named name: String) -> Any? {
        switch name {
        case "title": self.title
        case "resourceName": self.resourceName
        case "action": self.action
        case "status": self.status
        case "statusText": self.statusText
        case "statusClass": self.statusClass
        case "message": self.message
        case "hasMessage": self.hasMessage
        default: nil
        }
    }
}

extension WorkspacePages.WorkspaceView: TemplateFields {
    func child(named name: String) -> Any? {
        switch name {
        case "id": self.id
        case "name": self.name
        case "description": self.description
        case "status": self.status
        case "statusClass": self.statusClass
        case "templateName": self.templateName
        case "templateVersion": self.templateVersion
        case "enabled": self.enabled
        case "role": self.role
        case "overview": self.overview
        case "hasOverview": self.hasOverview
        case "canEdit": self.canEdit
        case "canAddService": self.canAddService
        case "airlock": self.airlock
        case "canViewUsers": self.canViewUsers
        case "mayReadServices": self.mayReadServices
        case "services": self.services
        case "userResources": self.userResources
        case "showOwners": self.showOwners
        case "showService": self.showService
        case "operations": self.operations
        case "olderOperations": self.olderOperations
        case "anyInFlight": self.anyInFlight
        case "statusClasses": self.statusClasses
        case "csrf": self.csrf
        case "returnTo": self.returnTo
        default: nil
        }
    }
}
