"""Materials of a cohort's meetings: the facilitators' page, and the files served back.

- `/cohorts/N/materials` (the cohort's facilitators): every meeting with its materials; add a
  link or upload a file (PDF, PPTX, DOCX, PNG, JPEG; checked by content, `core/materials.py`),
  optionally shown only after the meeting; remove one.
- `/cohorts/N/materials/M` (the cohort's facilitators and evaluators): the file.
- `/me/materials/M` (`participant_materials.py`, the cohort's participants): the file, once
  participants may see it.
Files are served by `file_response`: the type from the allow-list (never the upload's own),
`nosniff`, `attachment` for office files, the cleaned uploaded name as RFC 5987 filename.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Optional

from .. import services
from ..core import materials as rules
from ..models import MeetingMaterial, Role
from ..services import materials as material_service
from .access import requires
from .common import actor, now, read_session, transaction
from .forms import CohortForm, SingleLine, WebLink, strip

bp = Blueprint("materials", __name__, url_prefix="/cohorts/<int:cohort_id>/materials")

# Room for the form's other fields around the largest file (the upload limit itself is
# MATERIAL_MAX_BYTES, checked on the file).
FORM_OVERHEAD = 64 * 1024


class MaterialForm(CohortForm):
    meeting = SelectField(_l("Meeting"), validators=[DataRequired()])
    title = StringField(_l("Title (optional)"), filters=[strip],
                        validators=[Optional(), SingleLine(200)])
    url = StringField(_l("Link"), filters=[strip], validators=[Optional(), WebLink()])
    file = FileField(_l("Or a file"))
    after_meeting = BooleanField(_l("Show it to participants only after the meeting"))
    submit = SubmitField(_l("Add the material"))


class RemoveMaterialForm(CohortForm):
    # Names the material again, so a form posted without it (or for another) removes nothing.
    material = HiddenField(validators=[DataRequired()])
    submit = SubmitField(_l("Remove"))


def _refusal(code: str, filename: str) -> str:
    """Why an upload or link was refused, in the reader's words."""
    if code == rules.EMPTY:
        return _("The file is empty.")
    if code == rules.TOO_BIG:
        return _("The file is larger than %(limit)s MB.",
                 limit=current_app.config["MATERIAL_MAX_BYTES"] // (1024 * 1024))
    if code == rules.CONTENT_MISMATCH:
        named = rules.type_for_name(filename)
        return _("The file's content is not what its name says (a %(kind)s file). Save it "
                 "again in that format and upload it.", kind=named.key.upper() if named else "?")
    if code == material_service.BAD_TITLE:
        return _("The title must be one line of at most 200 characters.")
    if code == material_service.BAD_LINK:
        return _("The link must start with https:// (or http://).")
    return _("Upload a PDF, PowerPoint (.pptx), Word (.docx), PNG or JPEG file.")


def store() -> material_service.MaterialStore:
    return material_service.MaterialStore(current_app.config["MATERIALS_DIR"])


def upload_limit() -> int:
    """The request size a material upload may have (see security.py, which applies it)."""
    return current_app.config["MATERIAL_MAX_BYTES"] + FORM_OVERHEAD


@bp.route("", methods=["GET", "POST"])
@requires(Role.FACILITATOR, cohort_access=True)
def index(cohort_id: int):
    form = MaterialForm()
    with read_session() as session:
        cohort = services.get_cohort(session, cohort_id)
        meetings = material_service.cohort_materials(session, cohort_id)
    form.meeting.choices = [(m.meeting.key, m.meeting.title) for m in meetings]
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            added = _add(form, cohort_id)
            if added is not None:
                flash(_("“%(title)s” was added to %(meeting)s.", title=added.title,
                        meeting=dict(form.meeting.choices)[form.meeting.data]), "success")
                return redirect(url_for("materials.index", cohort_id=cohort_id))
    return render_template("materials/index.html", cohort=cohort, meetings=meetings, form=form,
                           remove_form=RemoveMaterialForm(formdata=None),
                           limit=current_app.config["MATERIAL_MAX_BYTES"] // (1024 * 1024),
                           accepted=",".join(rules.ACCEPTED_EXTENSIONS)), status


def _add(form: MaterialForm, cohort_id: int) -> MeetingMaterial | None:
    upload = form.file.data
    has_file = upload is not None and getattr(upload, "filename", "")
    if bool(has_file) == bool(form.url.data):
        form.url.errors.append(_("Give a link or choose a file (one of the two)."))
        return None
    try:
        with transaction() as session:
            if has_file:
                return material_service.add_file(
                    session, store(), cohort_id, form.meeting.data, form.title.data or "",
                    upload.filename, upload.read(current_app.config["MATERIAL_MAX_BYTES"] + 1),
                    form.after_meeting.data, current_app.config["MATERIAL_MAX_BYTES"],
                    actor(), now())
            return material_service.add_link(session, cohort_id, form.meeting.data,
                                             form.title.data or "", form.url.data,
                                             form.after_meeting.data, actor(), now())
    except material_service.MaterialError as refusal:
        message = _refusal(refusal.code, upload.filename if has_file else "")
        field = form.title if refusal.code == material_service.BAD_TITLE else \
            form.url if refusal.code == material_service.BAD_LINK else form.file
        field.errors.append(message)
        return None


@bp.post("/<int:material_id>/remove")
@requires(Role.FACILITATOR, cohort_access=True)
def remove(cohort_id: int, material_id: int):
    form = RemoveMaterialForm()
    if not form.validate() or form.material.data != str(material_id):
        flash(_("Nothing was changed."), "error")
        return redirect(url_for("materials.index", cohort_id=cohort_id))
    with transaction() as session:
        removed = material_service.remove_material(session, store(), cohort_id, material_id,
                                                   actor(), now())
    flash(_("“%(title)s” was removed.", title=removed.title), "success")
    return redirect(url_for("materials.index", cohort_id=cohort_id))


@bp.get("/<int:material_id>")
@requires(Role.FACILITATOR, Role.EVALUATOR, cohort_access=True)
def staff_file(cohort_id: int, material_id: int):
    with read_session() as session:
        material = material_service.material_for_staff(session, cohort_id, material_id)
    return material_response(material)


def material_response(material: MeetingMaterial):
    """A link material sends the browser on (http(s) only: a stored value that is not one
    reads as None, `models.types.WebLinkString`); a file is served by `file_response`."""
    if material.kind == rules.LINK:
        if not material.url:
            raise services.NotFound(f"material {material.id} has no usable link")
        return redirect(material.url)
    return file_response(material)


def file_response(material: MeetingMaterial):
    """The stored file with the allow-listed type, `nosniff` and a Content-Disposition:
    office files as attachments, PDFs and images inline; 404 when the file is gone."""
    file_type = rules.FILE_TYPES.get(material.file_type or "")
    if file_type is None or not material.stored_name:
        raise services.NotFound(f"material {material.id} has no file")
    path = store().path(material.stored_name)
    if not path.is_file():
        raise services.NotFound(f"the file of material {material.id} is missing")
    response = send_file(path, mimetype=file_type.content_type, conditional=False,
                         etag=False, max_age=0)
    response.headers["Content-Disposition"] = rules.content_disposition(
        material.filename or f"material{file_type.extensions[0]}", file_type.attachment)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
