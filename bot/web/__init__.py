"""The web side of the bot: the web chat, the office dashboard, the public page, Open311.

All of it is one aiohttp application made by bot.web.server.init_app.
"""
