"""Every session_state key and query parameter the app uses, in one place."""


class Keys:
    WORKSPACE = "workspace"  # this session's workspace id
    WORKSPACE_TOKEN = "workspace_token"  # an anonymous workspace's private token
    COOKIE_PENDING = "cookie_pending"  # a private token to put in the cookie on this run
    ACTOR = "actor"  # who this session is (a Principal)
    MEMBERSHIPS = "memberships"  # a signed-in person's teams and roles
    TEAM = "team"  # the team they work in now
    DATASET = "dataset"  # sidebar picker; mirrored in the ?dataset= query parameter
    PENDING_DATASET = "pending_dataset"  # a dataset to select on the next run (after an import)
    PENDING_UPLOAD = "pending_upload"  # an upload waiting for its mapping to be confirmed
    PENDING_PLAN = "pending_plan"  # how it reads: ((file, preset, sheet), plan, error)
    UPLOAD_REFUSED = "upload_refused"  # why the last upload could not be kept
    UPLOADER = "uploader_generation"  # a new uploader widget after each upload frees its bytes
    LAST_IMPORT = "last_import"  # the result of the latest import, shown on the Data page
    MAPPING_EDITOR = "mapping_editor"
    ATTACH_WHERE = "attach_where"  # the Data page's "Attach a table": path or catalog table
    ATTACH_SOURCE = "attach_source"
    ATTACH_FORMAT = "attach_format"
    ATTACH_ENGINE = "attach_engine"
    ATTACH_NAME = "attach_name"
    ATTACH_READ = "attach_read"  # the source whose columns were read (shown for mapping)
    IMPORT_SHEET = "import_sheet"
    IMPORT_PRESET = "import_preset"
    IMPORT_UNPIVOT = "import_unpivot"
    IMPORT_TARGET = "import_target"
    PRESET_NAME = "preset_name"
    CONFIRM_DELETE = "confirm_delete"
    LAST_SHARE = "last_share"  # + _<page>: the link just created on that page
    VIEW_LEFT_OUT = "view_left_out"  # what of a saved view just opened its page cannot show
    KPIS_SEEN = "kpis_seen"  # (dataset, KPIs) this session has recorded as looked at
