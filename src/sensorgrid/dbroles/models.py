from django.db import models


class ReportingLogin(models.Model):
    """A PostgreSQL login of the reporting role and the one organization it may read.

    The reporting views (sensorgrid.dbroles.reporting) show a login only the rows of
    its organization; a login without a row here sees nothing. Written by
    ``sensorgrid dbroles --reporting-login``; deleting the organization deletes the row."""

    login = models.CharField(max_length=63, unique=True)  # PostgreSQL's NAMEDATALEN - 1
    organization = models.ForeignKey(
        "tenancy.Organization", on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.login} → organization {self.organization_id}"
