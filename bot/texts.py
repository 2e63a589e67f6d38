"""What the bot says (zh-CN), in one place, and the domain's refusals in words citizens read."""

from __future__ import annotations

from tickets.errors import DomainError, InvalidInput, NotFound, PermissionDenied, TransitionNotAllowed
from tickets.states import ACTION_LABELS_ZH, STATE_LABELS_ZH, State


def welcome(city: str, number: str) -> str:
    return (
        f"您好，这里是{city}{number}市民服务热线。\n"
        "您可以直接用文字告诉我们：\n"
        "• 咨询：政策、办事流程等问题；\n"
        "• 投诉（含举报、求助）：需要政府部门处理的问题；\n"
        "• 建议：对城市管理和公共服务的意见。\n"
        "我们会读懂您的诉求，确认后生成工单并交给承办单位，在规定时限内答复您。\n\n"
        "个人信息说明：您的留言、联系电话和位置只用于办理您的诉求，只有热线工作人员和承办单位可见；"
        "对外公开的办理案例会去除姓名、电话等个人信息。\n\n"
        "紧急情况请直接拨打 110（报警）、119（火警）、120（急救）。\n"
        "常用命令：/mytickets 我的工单，/status 工单号 查询进度，/cancel 取消正在填写的诉求。"
    )


STAFF_HELP = (
    "工作人员命令：\n"
    "/inbox 本单位待办工单（超期在前）\n"
    "/answer 工单号 答复内容 —— 答复群众（也可以直接回复工单消息）\n"
    "工单消息下的“签收”“退单”按钮用于签收或退回派单员。"
)
DISPATCHER_HELP = "派单员命令：\n/inbox 待分派和被退回的工单\n工单消息下的部门按钮用于分派，“无效”用于标记骚扰或非热线受理范围的留言。"
LEADER_HELP = "领导命令：\n/weekly 本周工单办理情况"

URGENT = (
    "⚠️ 您反映的情况可能十分紧急！请立即拨打 110（报警）、119（火警）或 120（急救），"
    "不要等待热线答复。\n我们也已记录您的留言。"
)
# An emergency sent over the flood limit: the advice again, and the ticket that already records it.
URGENT_AGAIN = (
    "⚠️ 情况紧急请立即拨打 110（报警）、119（火警）或 120（急救），不要等待热线答复。\n"
    "您反映的紧急情况已记录，记录编号：{number}；发送太快的后续消息不再另行记录。"
)
FINISH_DRAFT_FIRST = "您有一条正在填写的诉求，请先提交或取消它，再评价已答复的工单。"
# Questions per channel: only Telegram has buttons that share a location or a contact.
ASK_PLACE = {
    "telegram": "请问这件事发生在哪里？请输入具体地址（如：XX区XX路XX号XX小区），或点下方按钮发送位置。",
    "web": "请问这件事发生在哪里？请直接输入具体地址（如：XX区XX路XX号XX小区）；不便提供可点“跳过”。",
    "wechat": "请问这件事发生在哪里？请直接输入具体地址（如：XX区XX路XX号XX小区），也可以点“＋”发送位置；"
              "不便提供请回复“跳过”。",
}
ASK_PHONE = {
    "telegram": "您希望承办单位电话联系您。请输入您的手机号码，或点下方按钮分享联系方式。",
    "web": "您希望承办单位电话联系您。请输入您的手机号码（11 位）或带区号的座机号；不便提供可点“跳过”。",
    "wechat": "您希望承办单位电话联系您。请输入您的手机号码（11 位）或带区号的座机号；不便提供请回复“跳过”。",
}
# Asked once more when the answer named no place (thanks, "好的", a sentence without an address).
ASK_PLACE_AGAIN = {
    "telegram": "没有看出具体地点。请告诉我具体地点，如“某某区某某路12号”或“某某小区3栋”，"
                "也可以点下方按钮发送位置；不清楚请发送“跳过”。",
    "web": "没有看出具体地点。请告诉我具体地点，如“某某区某某路12号”或“某某小区3栋”；不清楚请发送“跳过”。",
    "wechat": "没有看出具体地点。请告诉我具体地点，如“某某区某某路12号”或“某某小区3栋”，也可以点“＋”发送位置；"
              "不清楚请回复“跳过”。",
}
NO_LOCATION_BUTTON = "这里无法直接发送位置，请输入具体地址（如“某某区某某路12号”），或发送“跳过”。"
NOTHING_TO_SKIP = "现在没有需要跳过的问题。"
NO_RATING = "您目前没有待评价的工单。承办单位答复后，可在答复下方选择评价。"
PICK_RATING = "请选择要评价的工单，再在其中选择评价："
NOT_CHINESE = (
    "请用中文描述您的诉求；如需英文服务请致电{number}。\n"
    "Please describe your request in Chinese, or call {number} for help in English.\n"
    "如仍要提交这条留言，请选择下方的“仍然提交”，派单员会阅读后处理。"
)
INSIST = "仍然提交 / Submit anyway"
NO_WORDS = "没有看到文字内容。请用文字描述您遇到的问题，例如：“XX小区门口的路灯坏了一个星期”。"
ADD_WORDS = "请用文字补充您的诉求；确认无误请点“提交”或回复“提交”。"
NO_TICKETS = "您还没有提交过诉求。直接用文字描述即可。"
NO_DRAFT = "请先用文字描述您要反映的问题。"
CANCELLED = "已取消，这条诉求没有提交。您可以随时重新描述。"
STALE = "这条诉求已经处理过或已取消，按钮已失效。"
PHOTO_KEPT = "已收到照片（共 {n} 张），提交时会作为工单附件一起交给承办单位。"
PHOTO_FIRST = "已收到照片。请再用文字描述您要反映的问题，照片会随工单一起提交。"
STICKER = "收到您的表情 🙂 如需反映问题，请用文字描述。"
VOICE = "暂时无法识别语音或视频消息，请改用文字描述您的诉求；也可以直接拨打热线电话。"
FILE = "暂不接收文件。照片请直接以图片形式发送，其他内容请用文字描述。"
OTHER = "暂不支持这种消息，请用文字描述您的诉求。"
FLOOD = "您发送得太快了（每分钟最多 {limit} 条），请稍等一分钟再发，之前的消息我们已收到。"
FLOOD_AGAIN = "发送太快，请 {seconds} 秒后再发（每分钟最多 {limit} 条）。"
TOO_LONG = "您的留言有 {n} 字，超过了 {limit} 字的上限。请精简后重新发送，或分成几条发送。"
EMPTY = "没有收到文字内容，请用文字描述您的诉求。"
BAD_REQUEST = "消息格式有误，请刷新页面后重试。"
BUSY_ADDRESS = "您发送得有些频繁，为了让每位市民都能顺利反映问题，请 {seconds} 秒后再发送。您的留言还在输入框里，不会丢失。如有紧急情况，请直接拨打 110、119 或 120。"
BUSY_ALL = "此刻来信的市民较多，请 {seconds} 秒后再发送，您的留言还在输入框里。如有紧急情况，请直接拨打 110、119 或 120。"
PHOTO_BUSY = "您发送的照片有些多，请 {minutes} 分钟后再发。文字描述随时可以发送。"
PHOTO_EMPTY = "这张照片是空的（0 字节），请重新选择。"
PHOTO_TOO_BIG = "图片不能超过 {mb:g} MB，请压缩后再发送。"
PHOTO_NOT_IMAGE = "只接收 JPEG、PNG、WebP 或 GIF 图片，这个文件不是其中之一（或已损坏）。"
ALREADY_SUBMITTED = "✅ 这条诉求已提交，工单号：{number}\n查询进度：/status {number}"
UNKNOWN_COMMAND = "不认识这个命令。/start 查看说明。"
NOT_STAFF = "只有承办单位或热线中心的工作人员可以这样操作。"
NOT_LEADER = "只有领导和派单员可以查看周报。"
ASK_RETURN_REASON = "请回复退单理由（例如：不属于本单位职责，应由某某单位办理）。"
ASK_RATING_REASON = "很抱歉没能让您满意。请简要说明不满意的原因，我们会转交承办单位重新办理："
THANKS_RATING = "感谢您的评价（{rating}），工单 {number} 已办结。"


def refusal(err: DomainError, state: str | None = None) -> str:
    """A domain refusal in Chinese; the domain's own message is English for logs and the CLI."""
    if isinstance(err, PermissionDenied):
        action = ACTION_LABELS_ZH.get(err.action, err.action)
        return f"您无权对工单 {err.number} 执行“{action}”。"
    if isinstance(err, TransitionNotAllowed):
        action = ACTION_LABELS_ZH.get(err.action, err.action)
        if state is not None and state in State.__members__:
            return f"工单 {err.number} 当前为“{STATE_LABELS_ZH[State(state)]}”，不能{action}。"
        return f"工单 {err.number} 现在不能{action}。"
    if isinstance(err, NotFound):
        return "没有找到这张工单，请核对工单号（例如 20261123-0007）。"
    if isinstance(err, InvalidInput):
        text = str(err)
        if "too long" in text:
            return "内容过长，请精简后再发送。"
        if "empty" in text:
            return EMPTY
        if "join code" in text:
            return "邀请码无效或已被使用，请向管理员索取新的邀请码。"
        return "输入有误，请检查后重试。"
    return "操作没有成功，请稍后再试。"
