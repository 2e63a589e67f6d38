"""Domain errors: each says which rule was broken and why, in words a user can act on."""


class DomainError(Exception):
    """Base of every refusal by the domain. `str(err)` is a one-line message for people."""


class NotFound(DomainError):
    pass


class TransitionNotAllowed(DomainError):
    def __init__(self, action: str, number: str, reason: str) -> None:
        self.action = action
        self.number = number
        self.reason = reason
        super().__init__(f"cannot {action} ticket {number}: {reason}")


class PermissionDenied(TransitionNotAllowed):
    pass


class InvalidInput(DomainError):
    pass
