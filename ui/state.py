"""Every session_state key and query parameter the app uses, in one place."""


class Keys:
    DATASET = "dataset"  # sidebar picker; bound to the ?dataset= query parameter
    PENDING_DATASET = "pending_dataset"  # a dataset to select on the next run (after an import)
    IMPORTED_FILES = "imported_file_ids"  # uploads already imported in this session
    LAST_IMPORT = "last_import"  # the result of the latest import, shown on the Data page
    CONFIRM_DELETE = "confirm_delete"
